"""Bake-off report: quality, latency, tokens, cost, significance, monthly projection, runway, router.

``build_report(ReportInputs(...))`` takes plain dataclasses (no ORM) and returns a JSON-serialisable
dict. Conventions:

- Money is computed in exact ``Decimal`` (see ``bakeoff_jobs.costs``) and written as a string
  rounded half up to $0.000001 (``"0.010500"``); months of runway are strings rounded to 0.01.
- Pass rates, scores, intervals, p-values and latencies are JSON numbers (floats); pass rates are
  fractions 0..1. ``null`` means "not applicable / not known" as described per key.
- A model "attempted" a case when it has a result row for it (an errored call counts, with whatever
  tokens it billed); "solved" means ``passed is True``; an errored or unscored case is not solved.

Keys:

``sandbox``  true when the run used the local Converse sandbox, not Bedrock (figures are not real).

``models``   one entry per candidate model, in the order given:
  ``key``, ``name``, ``invoked_id``  catalog key, display name, the model/profile id actually called.
  ``cases``            cases attempted (result rows).
  ``solved``           cases passed.
  ``errors``           attempted cases whose call failed (``error`` set).
  ``pass_rate``        solved / cases; null when nothing was attempted.
  ``pass_rate_ci95``   [low, high] Wilson 95% interval of the pass rate ([0, 1] with no cases).
  ``mean_score``       mean scorer score 0..1 over attempted cases, an unscored case counting 0;
                       null with no cases.
  ``latency_ms``       {"p50", "p95"}: percentiles (linear interpolation) of latency over calls
                       that did not error; null when there are none.
  ``tokens``           {"input", "output", "cache_read", "cache_write"}: totals billed (input is
                       the uncached input); "mean_input" is every prompt token (input + cache read
                       + cache write) per attempted case and "mean_output" output tokens per
                       attempted case (floats; null with no cases).
  ``cost_total_usd``   cost of every attempted case at the model's prices (judge excluded): the
                       on-demand price, or for an answer from a batch job the batch price
                       (on-demand × (1 − batch_discount)).
  ``cost_on_demand_usd``  what the same tokens cost on demand (equals cost_total_usd in an
                       on-demand run): the comparison for a batch run.
  ``batch_jobs``       null in an on-demand run; else {"jobs", "duration_seconds": {"p50", "max"}}:
                       the model's batch jobs and how long they took (submit to end), which
                       replace per-call latency (``latency_ms`` is then null).
  ``cost_per_task_usd``         cost_total / cases (null with no cases).
  ``cost_per_solved_task_usd``  cost_total / solved (null when nothing was solved).
  ``monthly_usd``      {"on_demand", "batch", "cached"}: the founder's workload projected on this
                       model at the prices of the id it invoked (``costs.workload_projection``,
                       the same projection the ACE opportunity's expected spend uses): workload.monthly_requests at
                       workload.avg_input_tokens / avg_output_tokens, or this model's measured
                       means where the workload leaves them out; the shared prefix is capped at the
                       average input. "cached" is null when the model cannot cache that prefix.
                       All null without a workload.
  ``runway_months``    {"on_demand", "batch", "cached"}: credits_usd / the matching monthly cost;
                       null without credits, without that monthly figure, or when it is zero.
                       It ignores expiry; the three keys below count it.
  ``runway_months_counting_expiry``  {"on_demand", "batch", "cached"}: months the credits pay
                       for when each pool's credits expire after its validity, the soonest-expiring
                       spent first (``costs.runway_counting_expiry``); null as runway_months.
  ``runway_covers_validity``  {"on_demand", "batch", "cached"}: true when that spend never
                       exhausts the credits before they expire ("covers the whole validity");
                       null when a validity or the monthly cost is not known.
  ``credit_validity_months``  the longest validity among the credited pools (int), null when
                       any is not known or there are no credits.
  ``batch_available``  false when Bedrock offers no batch inference for the model (Llama 3.2):
                       its "batch" monthly and runway figures are then null.
  ``lifecycle``        {"status": "active" | "legacy" | "end_of_life", "end_of_life_date": ISO
                       date or null}: the model's Bedrock lifecycle when the report was built.
  ``hosting``          null for a Bedrock foundation model; for a self-hosted or Bedrock custom
                       model how it is billed, its measured throughput and its GPUs (or units)
                       per month (``bakeoff_jobs.report_hosting``). A model billed by the hour
                       costs each task its share of the hours (``hosting_costs``), not its tokens,
                       and its ``monthly_usd.on_demand`` is the always-on figure.
  ``credits_pay``      false when AWS credits do not pay for the model (GPUs outside AWS): its
                       runway figures are then null.

``pairwise`` one entry per pair of models (a before b in model order), over the cases both attempted:
  ``a``, ``b`` model keys; ``cases`` paired cases; ``a_only`` cases a solved and b did not;
  ``b_only`` the reverse; ``p_value`` two-sided exact McNemar; ``significant`` p_value < 0.05.

``judge``    null when no judge model was configured, else {"model" (key), "invoked_id",
  "input_tokens", "output_tokens" (summed over every result), "cost_usd" (at the judge's prices)}.
  The judge's cost is never part of a candidate's cost.

``router``   the tiered-router recommendation:
  ``bar``  {"points_below_best": "2" or null, "min_pass_rate_pct": "90" or null}. Without an
           absolute bar a model clears the bar in a category when its pass rate there is at least
           the category's best pass rate minus ``points_below_best`` percentage points. With an
           absolute bar it must reach ``min_pass_rate_pct``; if no model does, the category falls
           back to the models with the best pass rate and ``meets_bar`` is false.
  ``by_category``  one entry per category (order of first appearance in the cases; uncategorised
           cases form the category ""), for categories some model attempted:
           ``category``; ``cases`` eval cases in it; ``share`` cases / all routed cases (float);
           ``model`` the cheapest model (cost per task in this category) that clears the bar, ties
           to the higher pass rate, then the smaller key; ``pass_rate`` and ``cost_per_task_usd``
           of that model in this category; ``best_model`` / ``best_pass_rate`` the model with the
           highest pass rate here (ties: cheaper, then smaller key); ``meets_bar``.
  ``blended_cost_per_task_usd``  Σ share × chosen model's cost per task; null when nothing routed.
  ``blended_pass_rate``          Σ share × chosen model's pass rate (float).
  ``single_best_model``          the model the same bar rule picks when one model must serve
           every category: among models whose overall pass rate clears the bar (relative to the
           best overall pass rate, or the absolute bar), the one with the lowest overall cost per
           task (ties: higher pass rate, then smaller key).
  ``single_best_cost_per_task_usd``, ``single_best_pass_rate``  that model's overall figures.
  ``monthly_usd``  {"router", "single_best"}: on-demand monthly cost at the founder's workload.
           The router figure assumes traffic splits across categories like the eval set does:
           Σ share × the chosen model's on-demand monthly projection (so each request is priced
           at the workload's token sizes on the model that would serve it). Null without a
           workload.
  ``runway_months``  {"router", "single_best"}: credits_usd / those monthly costs (null as above),
           counting only what credits pay (a route to GPUs outside AWS is left out; null when
           credits pay none of it).
  ``runway_months_counting_expiry``, ``runway_covers_validity``, ``credit_validity_months``: as
           per model, for {"router", "single_best"}.

Why one module of ~560 lines: a fifth of it is this key reference, and the rest builds those keys
from one set of tallies in one pass (per model, pairwise, judge, router), so the figures the
sections share (monthly costs, runway, the credits that pay) are computed once. The hourly-billed
figures are in report_hosting.py and the arithmetic in costs.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from bakeoff_jobs.costs import (
    CreditTranche,
    Prices,
    Workload,
    call_cost,
    credits_validity_months,
    months_display,
    runway_counting_expiry,
    runway_months,
    usd_display,
)
from bakeoff_jobs.hosting_costs import call_hours_cost
from bakeoff_jobs.report_hosting import Hosting, Usage, hosting_entry, model_monthly, volume_costs
from bakeoff_jobs.stats import paired_comparison, percentile, wilson_interval


@dataclass(frozen=True)
class ModelSpec:
    key: str
    name: str
    invoked_id: str
    prices: Prices
    min_cache_tokens: int | None = None  # None: the model has no prompt caching
    batch_available: bool = True  # False: Bedrock offers no batch inference for the model
    lifecycle: dict | None = None  # {"status", "end_of_life_date"} from the catalog
    hosting: Hosting | None = None  # self-hosted or custom model: how it is billed (report_hosting)


@dataclass(frozen=True)
class CaseSpec:
    case_id: int | str
    category: str = ""


@dataclass(frozen=True)
class ResultRow:
    case_id: int | str
    model_key: str
    passed: bool | None
    score: float | None
    latency_ms: int | None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    error: str | None = None
    judge_input_tokens: int = 0
    judge_output_tokens: int = 0
    batch: bool = False  # answered by a batch job: billed at the batch price
    call_ms: int | None = None  # the call's wall time (else latency): what capacity billed by the hour costs


@dataclass(frozen=True)
class ReportInputs:
    models: list[ModelSpec]
    cases: list[CaseSpec]
    results: list[ResultRow]
    judge: ModelSpec | None = None
    workload: Workload | None = None
    credits_usd: Decimal | None = None
    # The same credits per pool with each pool's validity; None: one tranche of credits_usd whose
    # validity is not known.
    credit_tranches: list[CreditTranche] | None = None
    bar_points: Decimal = Decimal("2")
    sandbox: bool = False
    bar_min_pass_rate: Decimal | None = None  # absolute bar in percent, e.g. Decimal("90")
    cache_hit_rate: Decimal = Decimal("1")
    # Batch runs: per model key, the duration (seconds) of each of its batch jobs.
    job_seconds: dict[str, list[float]] | None = None


@dataclass
class _Tally:
    """Sums over a set of result rows of one model."""

    attempted: int = 0
    solved: int = 0
    errors: int = 0
    cost: Decimal = Decimal(0)
    on_demand_cost: Decimal = Decimal(0)
    score_sum: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    call_ms: int = 0
    latencies: list[int] = field(default_factory=list)

    def add(self, row: ResultRow, model: ModelSpec) -> None:
        prices = model.prices
        self.attempted += 1
        self.solved += row.passed is True
        self.errors += bool(row.error)
        self.score_sum += row.score or 0.0
        self.input_tokens += row.input_tokens
        self.output_tokens += row.output_tokens
        self.cache_read_tokens += row.cache_read_tokens
        self.cache_write_tokens += row.cache_write_tokens
        self.call_ms += row.call_ms or 0
        capacity = model.hosting.capacity if model.hosting else None
        if capacity is not None:  # billed by the hour: the task's share of the hours, not its tokens
            hours = call_hours_cost(capacity, call_ms=row.call_ms)
            self.on_demand_cost += hours
            self.cost += hours
            self._latency(row)
            return
        on_demand = call_cost(
            prices,
            input_tokens=row.input_tokens,
            output_tokens=row.output_tokens,
            cache_read_tokens=row.cache_read_tokens,
            cache_write_tokens=row.cache_write_tokens,
        )
        self.on_demand_cost += on_demand
        self.cost += on_demand * (1 - prices.batch_discount) if row.batch else on_demand
        self._latency(row)

    def _latency(self, row: ResultRow) -> None:
        if row.latency_ms is not None and not row.error:
            self.latencies.append(row.latency_ms)

    @property
    def usage(self) -> Usage:
        return Usage(attempted=self.attempted, prompt_tokens=self.prompt_tokens, output_tokens=self.output_tokens,
                     call_ms=self.call_ms)

    @property
    def pass_rate(self) -> Fraction | None:
        return Fraction(self.solved, self.attempted) if self.attempted else None

    @property
    def cost_per_task(self) -> Decimal | None:
        return self.cost / self.attempted if self.attempted else None

    @property
    def prompt_tokens(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def build_report(inputs: ReportInputs) -> dict:
    models = {model.key: model for model in inputs.models}
    categories = {case.case_id: case.category for case in inputs.cases}
    _check_results(inputs, models, categories)

    overall: dict[str, _Tally] = {model.key: _Tally() for model in inputs.models}
    by_category: dict[str, dict[str, _Tally]] = defaultdict(lambda: defaultdict(_Tally))
    for row in inputs.results:
        model = models[row.model_key]
        overall[row.model_key].add(row, model)
        by_category[categories[row.case_id]][row.model_key].add(row, model)

    projections = {
        model.key: model_monthly(model.prices, model.hosting, inputs.workload, overall[model.key].usage,
                                 min_cache_tokens=model.min_cache_tokens, cache_hit_rate=inputs.cache_hit_rate)
        for model in inputs.models
    }
    monthly = {key: projection for key, (projection, _) in projections.items()}
    tranches = _tranches(inputs)
    return {
        "sandbox": inputs.sandbox,
        "models": [
            _model_entry(model, overall[model.key], monthly[model.key], inputs.credits_usd, tranches)
            | {"hosting": hosting_entry(model.hosting, overall[model.key].usage, *projections[model.key]),
               "credits_pay": _credits_pay(model)}
            | _batch_entry(overall[model.key], inputs.job_seconds)
            | _batch_jobs_entry(model.key, inputs.job_seconds)
            for model in inputs.models
        ],
        "pairwise": _pairwise(inputs),
        "judge": _judge_entry(inputs),
        "router": _router(inputs, overall, by_category, monthly, tranches,
                          *volume_costs(models, inputs.workload, monthly, {k: t.usage for k, t in overall.items()})),
    }


def _tranches(inputs: ReportInputs) -> list[CreditTranche] | None:
    if inputs.credits_usd is None:
        return None
    if inputs.credit_tranches is not None:
        return inputs.credit_tranches
    return [CreditTranche(inputs.credits_usd, None)]


def _check_results(inputs: ReportInputs, models: dict, categories: dict) -> None:
    seen = set()
    for row in inputs.results:
        if row.model_key not in models:
            raise ValueError(f"result for unknown model {row.model_key!r}")
        if row.case_id not in categories:
            raise ValueError(f"result for unknown case {row.case_id!r}")
        pair = (row.case_id, row.model_key)
        if pair in seen:
            raise ValueError(f"two results for case {row.case_id!r} on model {row.model_key!r}")
        seen.add(pair)


# --------------------------------------------------------------------------- per model


def _runway(credits: Decimal | None, monthly_cost: Decimal | None) -> str | None:
    if credits is None or monthly_cost is None:
        return None
    return months_display(runway_months(credits, monthly_cost))


def _runway_with_expiry(tranches: list[CreditTranche] | None, monthly: dict[str, Decimal | None]) -> dict:
    """The expiry-aware siblings of ``runway_months`` for these monthly costs (one per variant)."""
    runways = {name: None if tranches is None or cost is None else runway_counting_expiry(tranches, cost)
               for name, cost in monthly.items()}
    validity = credits_validity_months(tranches) if tranches is not None else None
    return {
        "runway_months_counting_expiry": {
            name: None if r is None else months_display(r.months) for name, r in runways.items()
        },
        "runway_covers_validity": {
            name: None if r is None else r.covers_validity for name, r in runways.items()
        },
        "credit_validity_months": validity,
    }


def _model_entry(model: ModelSpec, tally: _Tally, projection, credits: Decimal | None,
                 tranches: list[CreditTranche] | None) -> dict:
    attempted = tally.attempted
    low, high = wilson_interval(tally.solved, attempted)
    variants = ("on_demand", "batch", "cached")
    monthly_values = {
        name: None if projection is None or (name == "batch" and not model.batch_available)
        else getattr(projection, name)
        for name in variants
    }
    # Runway counts only what credits pay: nothing for GPUs outside AWS.
    credited = monthly_values if _credits_pay(model) else dict.fromkeys(variants)
    return {
        "key": model.key,
        "name": model.name,
        "invoked_id": model.invoked_id,
        "cases": attempted,
        "solved": tally.solved,
        "errors": tally.errors,
        "pass_rate": _float(tally.pass_rate),
        "pass_rate_ci95": [low, high],
        "mean_score": tally.score_sum / attempted if attempted else None,
        "latency_ms": {
            "p50": percentile(tally.latencies, 50),
            "p95": percentile(tally.latencies, 95),
        },
        "tokens": {
            "input": tally.input_tokens,
            "output": tally.output_tokens,
            "cache_read": tally.cache_read_tokens,
            "cache_write": tally.cache_write_tokens,
            "mean_input": tally.prompt_tokens / attempted if attempted else None,
            "mean_output": tally.output_tokens / attempted if attempted else None,
        },
        "cost_total_usd": usd_display(tally.cost),
        "cost_per_task_usd": usd_display(tally.cost_per_task),
        "cost_per_solved_task_usd": usd_display(tally.cost / tally.solved if tally.solved else None),
        "monthly_usd": {name: usd_display(value) for name, value in monthly_values.items()},
        "runway_months": {name: _runway(credits, value) for name, value in credited.items()},
        **_runway_with_expiry(tranches, credited),
        "batch_available": model.batch_available,
        "lifecycle": model.lifecycle or {"status": "active", "end_of_life_date": None},
    }


def _credits_pay(model: ModelSpec) -> bool:
    """AWS credits pay Bedrock and EC2 in the startup's account, not GPUs outside AWS."""
    return model.hosting is None or model.hosting.credits_pay


def _batch_entry(tally: _Tally, job_seconds: dict | None) -> dict:
    """The on-demand comparison; in a batch run, job durations stand in for per-call latency."""
    entry: dict = {"cost_on_demand_usd": usd_display(tally.on_demand_cost)}
    if job_seconds is not None:
        entry["latency_ms"] = {"p50": None, "p95": None}
    return entry


def _batch_jobs_entry(key: str, job_seconds: dict | None) -> dict:
    if job_seconds is None:
        return {"batch_jobs": None}
    seconds = job_seconds.get(key) or []
    return {"batch_jobs": {"jobs": len(seconds), "duration_seconds": {
        "p50": percentile(seconds, 50), "max": max(seconds) if seconds else None}}}


def _pairwise(inputs: ReportInputs) -> list[dict]:
    passed = {(row.case_id, row.model_key): row.passed is True for row in inputs.results}
    entries = []
    for i, a in enumerate(inputs.models):
        for b in inputs.models[i + 1 :]:
            shared = [
                case.case_id
                for case in inputs.cases
                if (case.case_id, a.key) in passed and (case.case_id, b.key) in passed
            ]
            comparison = paired_comparison(
                [passed[(case_id, a.key)] for case_id in shared],
                [passed[(case_id, b.key)] for case_id in shared],
            )
            entries.append(
                {
                    "a": a.key,
                    "b": b.key,
                    "cases": len(shared),
                    "a_only": comparison["b"],
                    "b_only": comparison["c"],
                    "p_value": comparison["p_value"],
                    "significant": comparison["significant_at_0_05"],
                }
            )
    return entries


def _judge_entry(inputs: ReportInputs) -> dict | None:
    if inputs.judge is None:
        return None
    input_tokens = sum(row.judge_input_tokens for row in inputs.results)
    output_tokens = sum(row.judge_output_tokens for row in inputs.results)
    cost = call_cost(inputs.judge.prices, input_tokens=input_tokens, output_tokens=output_tokens)
    return {
        "model": inputs.judge.key,
        "invoked_id": inputs.judge.invoked_id,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": usd_display(cost),
    }


# --------------------------------------------------------------------------- router


def _choose(tallies: dict[str, _Tally], inputs: ReportInputs,
            at_volume: dict[str, Decimal] | None = None) -> tuple[str, str, bool] | None:
    """(chosen key, best key, chosen meets the bar) among models that attempted something.
    ``at_volume``: when given, models are ranked by their cost per request at the founder's volume
    (their month / monthly requests; a model billed by the hour always on), not by the run's cost."""
    at_volume = at_volume or {}
    candidates = {key: tally for key, tally in tallies.items() if tally.attempted}
    if not candidates:
        return None
    best = min(candidates, key=lambda k: (-candidates[k].pass_rate, candidates[k].cost_per_task, k))
    best_rate = candidates[best].pass_rate
    if inputs.bar_min_pass_rate is not None:
        threshold = Fraction(inputs.bar_min_pass_rate) / 100
    else:
        threshold = best_rate - Fraction(inputs.bar_points) / 100
    clearing = [key for key, tally in candidates.items() if tally.pass_rate >= threshold]
    meets_bar = bool(clearing)
    if not clearing:  # only possible with an absolute bar nobody reaches
        clearing = [key for key, tally in candidates.items() if tally.pass_rate == best_rate]
    chosen = min(
        clearing, key=lambda k: (at_volume.get(k, candidates[k].cost_per_task), -candidates[k].pass_rate, k)
    )
    return chosen, best, meets_bar


def _router(inputs: ReportInputs, overall, by_category, monthly, tranches, at_volume, monthly_at_share) -> dict:
    case_counts: dict[str, int] = {}
    for case in inputs.cases:
        case_counts[case.category] = case_counts.get(case.category, 0) + 1

    routed = []
    for category, count in case_counts.items():
        choice = _choose(by_category.get(category, {}), inputs, at_volume)
        if choice is not None:
            routed.append((category, count, *choice))
    routed_cases = sum(count for _, count, *_ in routed)

    rows = []
    blended_cost = Decimal(0)
    blended_rate = Fraction(0)
    routed_to: dict[str, int] = {}  # cases each chosen model serves
    for category, count, chosen, best, meets_bar in routed:
        tallies = by_category[category]
        share = Fraction(count, routed_cases)
        blended_cost += tallies[chosen].cost_per_task * count / routed_cases
        blended_rate += tallies[chosen].pass_rate * share
        routed_to[chosen] = routed_to.get(chosen, 0) + count
        rows.append(
            {
                "category": category,
                "cases": count,
                "share": float(share),
                "model": chosen,
                "pass_rate": float(tallies[chosen].pass_rate),
                "cost_per_task_usd": usd_display(tallies[chosen].cost_per_task),
                "best_model": best,
                "best_pass_rate": float(tallies[best].pass_rate),
                "meets_bar": meets_bar,
            }
        )

    # Each model's month at the share of the traffic it serves: per token that share of its month;
    # billed by the hour, the GPUs (or units) that share needs (a fixed Provisioned Throughput in full).
    router_monthly: Decimal | None = Decimal(0)
    router_credited = Decimal(0)  # the part of router_monthly that credits pay
    specs = {model.key: model for model in inputs.models}
    for key, count in routed_to.items():
        cost = monthly_at_share(key, Decimal(count) / routed_cases) if monthly[key] is not None else None
        if cost is None or router_monthly is None:
            router_monthly = None
            continue
        router_monthly += cost
        if _credits_pay(specs[key]):
            router_credited += cost

    single = _choose(overall, inputs, at_volume)
    single_key = single[0] if single else None
    single_tally = overall[single_key] if single else _Tally()
    single_monthly = monthly[single_key].on_demand if single and monthly[single_key] else None
    if not routed:
        router_monthly = None
    credited = {"router": None if router_monthly is None or (router_credited == 0 < router_monthly) else router_credited,
                "single_best": single_monthly if single and _credits_pay(specs[single_key]) else None}
    absolute = inputs.bar_min_pass_rate
    return {
        "bar": {
            "points_below_best": None if absolute is not None else str(inputs.bar_points),
            "min_pass_rate_pct": None if absolute is None else str(absolute),
        },
        "by_category": rows,
        "blended_cost_per_task_usd": usd_display(blended_cost) if routed else None,
        "blended_pass_rate": float(blended_rate) if routed else None,
        "single_best_model": single_key,
        "single_best_cost_per_task_usd": usd_display(single_tally.cost_per_task),
        "single_best_pass_rate": _float(single_tally.pass_rate),
        "monthly_usd": {
            "router": usd_display(router_monthly),
            "single_best": usd_display(single_monthly),
        },
        "runway_months": {name: _runway(inputs.credits_usd, cost) for name, cost in credited.items()},
        **_runway_with_expiry(tranches, credited),
    }
