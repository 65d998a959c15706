"""Pure partner scoring: which partners can take an intake, how well each fits, and a deterministic
order with an explicit tie-break. The services lock rows and store the breakdown this returns."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

TIE_BREAK = "highest total, then most free slots, then partner name A-Z, then oldest partner record"

POINTS_PER_SPECIALTY = Decimal("10")
POINTS_EXACT_REGION = Decimal("20")
POINTS_SAME_GEOGRAPHY = Decimal("10")
POINTS_LANGUAGE = Decimal("5")
POINTS_FULL_FREE_CAPACITY = Decimal("10")

HIGH_VOLUME_TOKENS_PER_MONTH = 1_000_000_000

_REGION_PREFIX_GEOGRAPHY = {"us": "na", "ca": "na", "mx": "na", "sa": "sa", "eu": "eu", "ap": "ap",
                            "me": "me", "il": "me", "af": "af"}

_COUNTRY_GEOGRAPHY: dict[str, str] = {
    **dict.fromkeys(["US", "CA", "MX"], "na"),
    **dict.fromkeys(["BR", "AR", "CL", "CO", "PE", "UY", "EC"], "sa"),
    **dict.fromkeys(
        ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
         "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "GB", "CH", "NO", "IS", "UA", "RS"],
        "eu",
    ),
    **dict.fromkeys(["IN", "SG", "JP", "KR", "AU", "NZ", "ID", "MY", "TH", "VN", "PH", "HK", "TW", "PK", "BD"], "ap"),
    **dict.fromkeys(["AE", "SA", "IL", "QA", "BH", "KW", "OM", "JO", "TR"], "me"),
    **dict.fromkeys(["ZA", "NG", "KE", "EG", "GH", "MA", "RW"], "af"),
}

_COUNTRY_LANGUAGE: dict[str, str] = {
    **dict.fromkeys(["DE", "AT", "CH"], "de"),
    **dict.fromkeys(["FR", "BE", "LU", "MA"], "fr"),
    **dict.fromkeys(["ES", "MX", "AR", "CL", "CO", "PE", "UY", "EC"], "es"),
    **dict.fromkeys(["BR", "PT"], "pt"),
    "JP": "ja",
    "KR": "ko",
    "IT": "it",
    "NL": "nl",
}


def region_geography(region: str) -> str | None:
    return _REGION_PREFIX_GEOGRAPHY.get((region or "").split("-")[0]) if region else None


@dataclass(frozen=True)
class Needs:
    required_specialties: tuple[str, ...]
    wanted_specialties: tuple[str, ...]
    region: str
    geography: str | None
    language: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "required_specialties": list(self.required_specialties),
            "wanted_specialties": list(self.wanted_specialties),
            "region": self.region,
            "geography": self.geography,
            "language": self.language,
        }


def needs_of(intake: Any) -> Needs:
    """What a partner must and should bring for this intake's workload and region."""
    genai = intake.use_case != "other"
    wanted = []
    if genai:
        wanted.append("genai")
    if intake.needs_fine_tuning or intake.needs_open_weights:
        wanted.append("ml")
    if intake.use_case in ("rag_search", "classification_extraction"):
        wanted.append("data")
    monthly_tokens = intake.monthly_requests * (intake.avg_input_tokens + intake.avg_output_tokens)
    if not genai or intake.needs_open_weights or monthly_tokens >= HIGH_VOLUME_TOKENS_PER_MONTH:
        wanted.append("devops")
    region = intake.data_residency_region or ""
    geography = region_geography(region) if region else _COUNTRY_GEOGRAPHY.get(intake.country)
    return Needs(
        required_specialties=("genai",) if genai else (),
        wanted_specialties=tuple(wanted),
        region=region,
        geography=geography,
        language=_COUNTRY_LANGUAGE.get(intake.country, "en"),
    )


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def score_partner(needs: Needs, partner: Any, load: int) -> dict[str, Any]:
    """Score one partner that passed the filters; every component is kept so staff can read why."""
    specialties = set(partner.specialties or [])
    regions = set(partner.regions or [])
    specialty_points = POINTS_PER_SPECIALTY * len(specialties & set(needs.wanted_specialties))
    if needs.region and needs.region in regions:
        region_points = POINTS_EXACT_REGION
    elif needs.geography and any(region_geography(r) == needs.geography for r in regions):
        region_points = POINTS_SAME_GEOGRAPHY
    else:
        region_points = Decimal("0")
    language_points = POINTS_LANGUAGE if needs.language in (partner.languages or []) else Decimal("0")
    free = max(partner.capacity - load, 0)
    capacity_points = _money(POINTS_FULL_FREE_CAPACITY * free / partner.capacity) if partner.capacity else Decimal("0")
    total = specialty_points + region_points + language_points + capacity_points
    return {
        "partner_id": partner.id,
        "partner": partner.name,
        "specialty": str(specialty_points),
        "region": str(region_points),
        "language": str(language_points),
        "capacity": str(capacity_points),
        "free_slots": free,
        "total": str(_money(total)),
    }


def why_excluded(needs: Needs, partner: Any, load: int, declined_ids: set[int]) -> str | None:
    if partner.id in declined_ids:
        return "declined this engagement before"
    missing = [s for s in needs.required_specialties if s not in (partner.specialties or [])]
    if missing:
        return f"lacks the {', '.join(missing)} specialty"
    if needs.geography and not any(region_geography(r) == needs.geography for r in (partner.regions or [])):
        return f"serves no region in the {needs.geography} geography"
    if load >= partner.capacity:
        return f"at capacity ({load}/{partner.capacity})"
    return None


def rank(
    needs: Needs, partners: Iterable[Any], loads: dict[int, int], declined_ids: set[int] = frozenset()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return (candidates best first, excluded partners with the reason)."""
    candidates, excluded = [], []
    for partner in partners:
        load = loads.get(partner.id, 0)
        why = why_excluded(needs, partner, load, set(declined_ids))
        if why:
            excluded.append({"partner_id": partner.id, "partner": partner.name, "why": why})
        else:
            candidates.append(score_partner(needs, partner, load))
    candidates.sort(key=lambda c: (-Decimal(c["total"]), -c["free_slots"], c["partner"].casefold(), c["partner_id"]))
    excluded.sort(key=lambda e: (e["partner"].casefold(), e["partner_id"]))
    return candidates, excluded
