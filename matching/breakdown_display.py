"""A match decision's breakdown (MatchDecision.breakdown, JSON) as tables a person reads: what the
intake needed, every candidate's points best first (the chosen one marked), who was left out and
why, the tie-break, and any other key as a labelled row. Any shape renders; nothing shows raw JSON."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

LABELS = {
    "partner": "Partner",
    "specialty": "Specialties",
    "region": "Region",
    "language": "Language",
    "capacity": "Free capacity",
    "free_slots": "Free slots",
    "total": "Total",
    "why": "Why left out",
    "required_specialties": "Required specialties",
    "wanted_specialties": "Wanted specialties",
    "geography": "Geography",
    "previous_partner": "Previous partner",
    "tie_break": "Ties broken by",
}
GEOGRAPHIES = {"na": "North America", "sa": "South America", "eu": "Europe", "ap": "Asia Pacific",
               "me": "Middle East", "af": "Africa"}
HIDDEN = {"partner_id"}  # ids say nothing to a reader; the name is shown
CANDIDATE_COLUMNS = ["partner", "specialty", "region", "language", "capacity", "free_slots", "total"]


def label(key: str) -> str:
    return LABELS.get(key, str(key).replace("_", " ").capitalize())


def text(value: Any, key: str = "") -> str:
    """One value as plain words: lists joined, points without trailing zeros, empty as "—"."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{label(k)}: {text(v, k)}" for k, v in value.items() if k not in HIDDEN)
    if key == "geography":
        return GEOGRAPHIES.get(value, str(value))
    if isinstance(value, str) and key in CANDIDATE_COLUMNS:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        return f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:f}"
    return str(value)


def _table(rows: list[dict], preferred: list[str], chosen_id=None) -> dict:
    keys = [k for k in preferred if any(k in r for r in rows)]
    keys += [k for r in rows for k in r if k not in keys and k not in HIDDEN]
    keys = list(dict.fromkeys(keys))
    return {
        "headers": [label(k) for k in keys],
        "rows": [
            {"cells": list(zip([text(r.get(k), k) for k in keys], [k in CANDIDATE_COLUMNS and k != "partner" for k in keys])),
             "chosen": chosen_id is not None and r.get("partner_id") == chosen_id}
            for r in rows
        ],
    }


def breakdown_context(breakdown: Any) -> dict:
    if not isinstance(breakdown, dict):
        return {"empty": not breakdown, "other": [("Breakdown", text(breakdown))] if breakdown else []}
    chosen = breakdown.get("chosen") if isinstance(breakdown.get("chosen"), dict) else None
    candidates = [c for c in breakdown.get("candidates") or [] if isinstance(c, dict)]
    excluded = [e for e in breakdown.get("excluded") or [] if isinstance(e, dict)]
    needs = breakdown.get("needs") if isinstance(breakdown.get("needs"), dict) else None
    known = {"needs", "chosen", "candidates", "excluded", "tie_break"}
    return {
        "empty": not breakdown,
        "needs": [(label(k), text(v, k)) for k, v in needs.items()] if needs else [],
        "chosen": chosen.get("partner") if chosen else None,
        "no_choice": "chosen" in breakdown and not chosen,
        "candidates": _table(candidates, CANDIDATE_COLUMNS, chosen.get("partner_id") if chosen else None)
        if candidates else None,
        "excluded": _table(excluded, ["partner", "why"]) if excluded else None,
        "tie_break": breakdown.get("tie_break"),
        "other": [(label(k), text(v, k)) for k, v in breakdown.items() if k not in known],
    }


def breakdown_html(breakdown: Any) -> SafeString:
    return render_to_string("matching/_match_breakdown.html", breakdown_context(breakdown))
