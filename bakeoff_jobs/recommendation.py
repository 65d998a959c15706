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
  ``router_held_back`` true when the router would be cheaper but its per-category choices rest on
                       too few cases (the single model is recommended instead).
  ``reason``           one sentence saying why.

  The router is recommended when it calls two or more models, costs less than the single best
  model (monthly at the founder's volume, else per task), passes no fewer cases than the bar
  allows below the single model, and no routed category rests on too few cases; otherwise the
  single best model.

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
    }


def _cheaper(router: dict) -> bool:
    monthly = router.get("monthly_usd") or {}
    if monthly.get("router") is not None and monthly.get("single_best") is not None:
        return Decimal(monthly["router"]) < Decimal(monthly["single_best"])
    blended, single = router.get("blended_cost_per_task_usd"), router.get("single_best_cost_per_task_usd")
    return blended is not None and single is not None and Decimal(blended) < Decimal(single)
