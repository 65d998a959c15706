"""The decision a bake-off report leads with, and where its figures rest on too few cases.

Both read only a built report (``report.build_report``'s dict), so a report stored before these
keys existed gets them on the page too. ``build_report`` adds them to the report as two keys:

``recommendation``  the setup to run (null when no model attempted a case):
  ``setup``            "router" or "single_model".
  ``model``            the single model's key (null for the router); ``models`` every model the
                       setup calls (the router's, in category order).
  ``cost_per_task_usd``, ``cost_per_1000_tasks_usd``  on-demand cost at the run's prices.
  ``pass_rate``, ``pass_rate_ci95``, ``cases``  its pass rate over ``cases`` eval cases with the
                       Wilson 95% interval (the router's: over the routed cases; measured on the
                       cases its routes were chosen on, so on the optimistic side).
  ``monthly_usd``      on-demand monthly cost at the founder's workload (null without one).
  ``runway_months``, ``runway_months_counting_expiry``, ``runway_covers_validity``,
  ``credit_validity_months``  against the matched credits, as ``router`` gives them.
  ``credits_pay``      false when AWS credits do not pay for (some of) the setup's models (GPUs
                       outside AWS): its runway then counts only the part credits pay.
  ``router_held_back`` true when the router would be cheaper but its per-category choices rest on
                       too few cases (the single model is recommended instead).
  ``reason``           one sentence saying why.
  ``needs``            per need the founder stated on the intake (``report["founder_needs"]``:
                       open weights, fine-tuning), {"need", "models" (keys of the candidates that
                       answer it), "text" (what the bake-off says about it, or that it had no such
                       candidate)}; [] when no need was stated or the report predates the key.

  The router is recommended when it calls two or more models, costs less than the single best
  model (monthly at the founder's volume, else per task), passes no fewer cases than the bar
  allows below the single model, and no routed category rests on too few cases; otherwise the
  single best model.

``founder_needs``  {"open_weights", "fine_tuning"}: what the founder's intake asked for (added by
  ``selectors.run_report``; missing in reports stored before it, which then state no need).

``sample_size``  where the data is too thin to tell models apart (exact McNemar at 0.05, 80% power,
  ``bakeoff_jobs.stats``):
  ``categories[]``  per router category: ``category``, ``cases``, ``cases_needed`` (to tell the
                    best pass rate there from one 10 points off), ``too_few`` (cases < needed).
  ``pairs[]``       per pairwise entry: ``a``, ``b``, ``cases``, ``gap_points`` (the observed gap
                    on the paired cases when it is 10 points or more, else the 10-point planning
                    gap at the better pass rate), ``cases_needed`` (to show that gap),
                    ``too_few`` (not significant and cases < needed).
"""
from __future__ import annotations

from decimal import Decimal

from bakeoff_jobs.costs import usd_display
from bakeoff_jobs.templatetags.bakeoff_format import pct, usd
from matching.templatetags.money import money_text
from bakeoff_jobs.stats import PLANNING_GAP, cases_needed_for_gap, mcnemar_cases_needed, wilson_interval

ROUTER_KEYS = ("runway_months", "runway_months_counting_expiry", "runway_covers_validity")


def sample_size(report: dict) -> dict:
    router = report.get("router") or {}
    categories = []
    for row in router.get("by_category") or []:
        needed = cases_needed_for_gap(row["best_pass_rate"]) if row.get("best_pass_rate") is not None else None
        categories.append({"category": row["category"], "cases": row["cases"], "cases_needed": needed,
                           "too_few": needed is not None and row["cases"] < needed})
    rates = {m["key"]: m.get("pass_rate") for m in report.get("models") or []}
    pairs = []
    for pair in report.get("pairwise") or []:
        cases = pair["cases"]
        needed, gap = None, None
        if cases:
            a_only, b_only = pair["a_only"] / cases, pair["b_only"] / cases
            gap = abs(a_only - b_only)
            if gap >= PLANNING_GAP:  # a gap worth confirming: the cases that would show it
                needed = mcnemar_cases_needed(a_only, b_only)
            else:  # (nearly) tied: the cases that would show a 10-point gap at the better rate
                best = max((r for r in (rates.get(pair["a"]), rates.get(pair["b"])) if r is not None), default=None)
                gap = PLANNING_GAP if best is not None else None
                needed = cases_needed_for_gap(best) if best is not None else None
        pairs.append({"a": pair["a"], "b": pair["b"], "cases": cases,
                      "gap_points": None if gap is None else round(gap * 100, 1), "cases_needed": needed,
                      "too_few": not pair.get("significant") and needed is not None and cases < needed})
    return {"categories": categories, "pairs": pairs}


def recommendation(report: dict, sizes: dict | None = None) -> dict | None:
    router = report.get("router") or {}
    single_key = router.get("single_best_model")
    if not single_key:
        return None
    sizes = sizes if sizes is not None else sample_size(report)
    models = {m["key"]: m for m in report.get("models") or []}
    single = models.get(single_key) or {}
    rows = router.get("by_category") or []
    routed_models = list(dict.fromkeys(row["model"] for row in rows))
    router_cheaper = _cheaper(router)
    bar_points = Decimal(router.get("bar", {}).get("points_below_best") or 0)
    blended, single_rate = router.get("blended_pass_rate"), router.get("single_best_pass_rate")
    router_good_enough = (
        blended is not None and single_rate is not None
        and Decimal(str(blended)) >= Decimal(str(single_rate)) - bar_points / 100
        and all(row.get("meets_bar", True) for row in rows)
    )
    too_thin = [c for c in sizes["categories"] if c["too_few"]]
    router_worth_it = len(routed_models) >= 2 and router_cheaper and router_good_enough
    use_router = router_worth_it and not too_thin

    if use_router:
        cases = sum(row["cases"] for row in rows)
        rate = router["blended_pass_rate"]
        cost = router.get("blended_cost_per_task_usd")
        variant = "router"
        reason = (f"The router sends each category to the cheapest model that clears the bar and costs less "
                  f"than {single.get('name', single_key)} for everything.")
    else:
        cases = single.get("cases") or 0
        rate = single.get("pass_rate")
        cost = single.get("cost_per_task_usd")
        variant = "single_best"
        if router_worth_it:
            reason = ("A router would cost less, but its per-category choices rest on too few cases to tell "
                      "the models apart; one model is the safe choice until a larger eval set confirms them.")
        elif len(routed_models) < 2:
            reason = "The same model is the cheapest that clears the bar in every category."
        else:
            reason = "No router saves money at the same quality: one model serves every category."
    solved = round((rate or 0) * cases)
    low, high = wilson_interval(solved, cases)
    return {
        "setup": "router" if use_router else "single_model",
        "model": None if use_router else single_key,
        "models": routed_models if use_router else [single_key],
        "cost_per_task_usd": cost,
        "cost_per_1000_tasks_usd": None if cost is None else usd_display(Decimal(cost) * 1000),
        "pass_rate": rate,
        "pass_rate_ci95": [low, high],
        "cases": cases,
        "monthly_usd": (router.get("monthly_usd") or {}).get(variant),
        **{key: (router.get(key) or {}).get(variant) for key in ROUTER_KEYS},
        "credit_validity_months": router.get("credit_validity_months"),
        "router_held_back": bool(router_worth_it and too_thin),
        "reason": reason,
        "credits_pay": all(models.get(key, {}).get("credits_pay", True)
                           for key in (routed_models if use_router else [single_key])),
        "needs": founder_needs(report),
    }


NEEDS = {
    # need: (what the founder asked for, the kind of candidate that answers it, what to add when none did)
    "open_weights": ("open weights", "self_hosted",
                     "add a self-hosted candidate (the open-weights model on the startup's own GPUs) to price it "
                     "per GPU-hour beside Bedrock"),
    "fine_tuning": ("fine-tuning", "custom",
                    "add the startup's Bedrock custom model (fine-tuned or imported, by its ARN) to price it "
                    "beside the base models"),
}


def founder_needs(report: dict) -> list[dict]:
    """What the bake-off says about each need the founder stated (see ``needs`` above)."""
    stated = report.get("founder_needs") or {}
    found = []
    for need, (asked, kind, advice) in NEEDS.items():
        if not stated.get(need):
            continue
        models = [m for m in report.get("models") or [] if (m.get("hosting") or {}).get("kind") == kind]
        if not models:
            text = f"You asked for {asked}, but this bake-off had no such candidate: {advice}."
        else:
            text = f"You asked for {asked}: " + "; ".join(_need_sentence(m) for m in models) + "."
        found.append({"need": need, "models": [m["key"] for m in models], "text": text})
    return found


def _need_sentence(model: dict) -> str:
    solved = (f"{model['name']} solved {pct(model.get('pass_rate'), 0)} of {model.get('cases') or 0} cases at "
              f"{usd(model.get('cost_per_solved_task_usd'))} per solved task")
    cost = hosting_cost_text(model)
    return f"{solved}{', ' if cost.startswith('paid') or cost.startswith('not') else '; '}{cost}"


def hosting_cost_text(model: dict) -> str:
    """What a self-hosted or custom model costs a month at the stated volume, and who pays (report
    page, founder's page, and the ``bakeoff`` command's text)."""
    hosting = model["hosting"]
    monthly = hosting.get("monthly") or {}
    paid = ("paid by AWS credits" + (" (EC2 in the startup's account)" if hosting["where"] == "ec2" else "")
            if hosting.get("credits_pay") else "not paid by AWS credits (GPUs outside AWS)")
    training = monthly.get("amortised_training_usd")
    training = Decimal(training) if training else Decimal(0)
    if monthly.get("always_on_usd") is None:
        if not monthly:
            return paid
        cost = f"{money_text(model['monthly_usd'].get('on_demand'))} a month at the stated volume"
        if training:
            cost += f" with {money_text(training)} a month of training amortised"
        return f"{cost}, {paid}"
    if hosting["billing"] == "provisioned":
        cost = (f"{hosting['units']} model unit{'s' if hosting['units'] != 1 else ''} of Provisioned Throughput "
                f"cost {money_text(monthly['always_on_usd'])} a month")
        if monthly.get("commitment_total_usd"):
            cost += (f" ({hosting['commitment_months']}-month commitment: "
                     f"{money_text(monthly['commitment_total_usd'])})")
        if monthly.get("capacity_short"):
            cost += ", too few units for the stated volume"
    else:
        units = "GPU" if hosting["billing"] == "gpu_hours" else "Custom Model Unit"
        count = monthly["units_needed"]
        cost = (f"{count} {units}{'s' if count != 1 else ''} always on cost {money_text(monthly['always_on_usd'])} a "
                f"month ({money_text(monthly['at_utilisation_usd'])} at the measured utilisation)")
    if training:
        cost += f", training amortised at {money_text(training)} a month included"
    return f"{cost}, {paid}"


def _cheaper(router: dict) -> bool:
    monthly = router.get("monthly_usd") or {}
    if monthly.get("router") is not None and monthly.get("single_best") is not None:
        return Decimal(monthly["router"]) < Decimal(monthly["single_best"])
    blended, single = router.get("blended_cost_per_task_usd"), router.get("single_best_cost_per_task_usd")
    return blended is not None and single is not None and Decimal(blended) < Decimal(single)
