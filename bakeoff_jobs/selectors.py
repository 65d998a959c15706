"""Bake-off reads shared by the admin, the CLI and the report: progress, visibility, report inputs."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from matching.models import FilingRoute
from matching.roles import scope_to

from . import costs
from . import recommendation as recommendation_module
from . import report as report_module
from .costs import Prices
from .model_data import min_cache_tokens
from .report_hosting import Usage, hosting_of, model_monthly
from .catalog_models import CatalogKind, CatalogModel
from .models import BakeoffResult, BakeoffRun, EvalSet, ResultStatus, RunMode, RunModel, RunModelRole


@dataclass(frozen=True)
class RunProgress:
    status: str
    total: int
    done: int
    failed: int
    remaining: int
    finished: bool


def run_progress(*, run_id: int) -> RunProgress:
    """One indexed row read: cheap enough to poll."""
    status, total, done, failed = BakeoffRun.objects.filter(pk=run_id).values_list(
        "status", "total_pairs", "done_count", "failed_count"
    ).get()
    return RunProgress(
        status=status, total=total, done=done, failed=failed, remaining=max(total - done - failed, 0),
        finished=status not in ("queued", "running", "finalizing"),
    )


def runs_visible_to(who) -> QuerySet[BakeoffRun]:
    """Staff see every run; a partner's logins their firm's runs; anybody else none (`who`: a user
    or a request, see matching.roles)."""
    runs = BakeoffRun.objects.select_related("eval_set", "engagement__intake", "partner", "created_by")
    return _scoped(runs, who)


def eval_sets_visible_to(who) -> QuerySet[EvalSet]:
    sets = EvalSet.objects.select_related("partner", "engagement__intake", "created_by")
    return _scoped(sets, who)


def _scoped(queryset: QuerySet, who) -> QuerySet:
    return scope_to(queryset, who, "partner")


def engagement_credits_usd(engagement) -> Decimal | None:
    """The credits the engagement's matched pools are expected to bring (None when not known)."""
    if engagement is None:
        return None
    amount = getattr(engagement, "estimated_credits_usd", None)
    return Decimal(amount) if amount else None


def engagement_credit_tranches(engagement) -> list[costs.CreditTranche] | None:
    """The engagement's expected credits pool by pool, each with how long its credits stay valid:
    the eligible verdicts that count as expected credits (competitive awards do not). When they do
    not add up to the engagement's expected credits (set some other way), one tranche of unknown
    validity, so runway never claims an expiry it cannot source."""
    credits = engagement_credits_usd(engagement)
    if credits is None:
        return None
    verdicts = (
        engagement.intake.verdicts.filter(is_eligible=True, estimated_amount_usd__gt=0)
        .exclude(route=FilingRoute.COMPETITIVE).select_related("pool")
    )
    tranches = [costs.CreditTranche(v.estimated_amount_usd, v.pool.credit_validity_months) for v in verdicts]
    if sum((t.amount_usd for t in tranches), Decimal(0)) != credits:
        return [costs.CreditTranche(credits, None)]
    return tranches


def engagement_workload(engagement) -> costs.Workload | None:
    intake = getattr(engagement, "intake", None) if engagement is not None else None
    if intake is None or not intake.monthly_requests:
        return None
    return costs.Workload(
        monthly_requests=intake.monthly_requests,
        avg_input_tokens=intake.avg_input_tokens or None,
        avg_output_tokens=intake.avg_output_tokens or None,
    )


@dataclass(frozen=True)
class SpendProjection:
    """The founder's workload projected on one model at the prices of the id it is invoked through."""

    model_name: str
    invoked_id: str
    monthly: costs.MonthlyProjection
    from_bakeoff: bool  # the bake-off's single best model at its frozen prices, else the reference model
    kind: str = "bedrock"  # a self-hosted best model is priced by its GPUs always on (report_hosting)


def engagement_spend_projection(engagement) -> SpendProjection | None:
    """The monthly spend the engagement's ACE opportunity, the bake-off report and the founder's page
    all state (``costs.workload_projection``): on the single best model of the run shared with the
    founder (else the latest finished run), at that run's frozen prices; before any bake-off, on the
    model the founder named first (else the newest mid-tier Claude) at the catalog's effective price
    of the id it would be invoked through. A self-hosted or custom best model is projected by the same
    function as in the report (``report_hosting.model_monthly``: its GPUs or units always on, amortised
    training included). None without a workload (or a price)."""
    workload = engagement_workload(engagement)
    if workload is None:
        return None
    run = run_shared_with_founder(engagement) or (
        _runs_of_holder(engagement).filter(status="finished").exclude(report__isnull=True)
        .order_by("-finished_at", "-pk").first()
    )
    best_key = ((run.report or {}).get("router") or {}).get("single_best_model") if run else None
    best = next((rm for rm in run_candidates(run) if _model_key(rm) == best_key), None) if best_key else None
    if best is not None:
        spec = _spec(best)
        measured = BakeoffResult.objects.filter(run=run, run_model=best).aggregate(
            cases=Count("id"), prompt=Sum(F("input_tokens") + F("cache_read_tokens") + F("cache_write_tokens")),
            output=Sum("output_tokens"), call_ms=Sum(Coalesce("wall_ms", "latency_ms")),
        )
        usage = Usage(attempted=measured["cases"], prompt_tokens=measured["prompt"] or 0,
                      output_tokens=measured["output"] or 0, call_ms=measured["call_ms"] or 0)
        monthly, _ = model_monthly(spec.prices, spec.hosting, workload, usage, min_cache_tokens=spec.min_cache_tokens)
        return SpendProjection(spec.name, spec.invoked_id, monthly, True, best.kind) if monthly else None
    model = reference_model(getattr(engagement.intake, "models_of_interest", ""))
    if model is None:
        return None
    prices = Prices(batch_discount=model.batch_discount, **model.invoked_prices(model.invoked_id))
    monthly = costs.workload_projection(
        prices, workload, min_cache_tokens=min_cache_tokens(model.model_id, supports_caching=prices.has_cache)
    )
    return SpendProjection(model.name, model.invoked_id, monthly, False) if monthly else None


def reference_model(models_of_interest: str = "") -> CatalogModel | None:
    """The offered catalog model the founder named first ("Claude Sonnet, Llama 3.3 70B": each word
    of a name is a word of the model's name; the newest such model), else the newest mid-tier
    Claude."""
    offered = list(CatalogModel.objects.offered().exclude(kind=CatalogKind.SELF_HOSTED).order_by("-model_id"))
    names = {model.pk: set(model.name.casefold().split()) for model in offered}
    for wanted in models_of_interest.split(","):
        words = set(wanted.casefold().split())
        found = next((m for m in offered if words and words <= names[m.pk]), None)
        if found is not None:
            return found
    claudes = [m for m in offered if m.family == "claude"]
    return next((m for m in claudes if m.tier == "mid"), None) or next(iter(claudes), None)


def _model_key(run_model: RunModel) -> str:
    return run_model.catalog_model.model_id


def _spec(run_model: RunModel) -> report_module.ModelSpec:
    prices = Prices(
        input_per_1m=run_model.input_per_1m, output_per_1m=run_model.output_per_1m,
        cache_read_per_1m=run_model.cache_read_per_1m, cache_write_per_1m=run_model.cache_write_per_1m,
        batch_discount=run_model.batch_discount,
    )
    catalog = run_model.catalog_model
    hosting = hosting_of(**{name: getattr(run_model, name) for name in HOSTING_FIELDS})
    return report_module.ModelSpec(
        key=_model_key(run_model), name=catalog.name, invoked_id=run_model.invoked_id, prices=prices,
        min_cache_tokens=min_cache_tokens(catalog.model_id, supports_caching=prices.has_cache),
        batch_available=run_model.batch_supported and catalog.batch_supported and hosting is None,
        lifecycle=catalog.lifecycle_on(), hosting=hosting,
    )


# The RunModel fields a self-hosted or custom model is priced from (frozen at launch).
HOSTING_FIELDS = ("kind", "max_concurrency", "gpu_type", "gpu_count", "gpu_hour_price", "hosting", "custom_pricing",
                  "model_units", "model_unit_hour_price", "commitment_months", "training_cost_usd",
                  "amortisation_months")


def complete_case_ids(run: BakeoffRun) -> set[int]:
    """Cases that have a result (an answer or a recorded error) from every candidate model."""
    candidates = run.run_models.filter(role=RunModelRole.CANDIDATE).count()
    return set(
        BakeoffResult.objects.filter(run=run, run_model__role=RunModelRole.CANDIDATE)
        .values("case_id").annotate(n=Count("id")).filter(n=candidates).values_list("case_id", flat=True)
    )


def report_inputs(run: BakeoffRun, *, only_cases: set[int] | None = None) -> report_module.ReportInputs:
    """Everything the report needs, from the run's frozen prices (never today's catalog).
    `only_cases` limits it to those cases (a cancelled run's report covers complete cases only)."""
    run_models = list(run.run_models.select_related("catalog_model"))
    candidates = [rm for rm in run_models if rm.role == RunModelRole.CANDIDATE]
    judge = next((rm for rm in run_models if rm.role == RunModelRole.JUDGE), None)
    keys = {rm.pk: _model_key(rm) for rm in run_models}
    cases = [
        report_module.CaseSpec(case_id=pk, category=category)
        for pk, category in run.eval_set.cases.order_by("line").values_list("pk", "category")
        if only_cases is None or pk in only_cases
    ]
    results_of_run = BakeoffResult.objects.filter(run=run)
    if only_cases is not None:
        results_of_run = results_of_run.filter(case_id__in=only_cases)
    rows = results_of_run.values_list(
        "case_id", "run_model_id", "status", "passed", "score", "latency_ms", "input_tokens", "output_tokens",
        "cache_read_tokens", "cache_write_tokens", "error_code", "judge_input_tokens", "judge_output_tokens",
        "batch_job_id", "wall_ms",
    )
    results = [
        report_module.ResultRow(
            case_id=case_id, model_key=keys[rm_id], passed=passed, score=score,
            latency_ms=latency if status == ResultStatus.OK else None,
            input_tokens=inp, output_tokens=out, cache_read_tokens=cr, cache_write_tokens=cw,
            error=(code or "error") if status == ResultStatus.ERROR else None,
            judge_input_tokens=ji, judge_output_tokens=jo, batch=batch_job_id is not None,
            call_ms=wall if wall is not None else latency,
        )
        for case_id, rm_id, status, passed, score, latency, inp, out, cr, cw, code, ji, jo, batch_job_id, wall in rows
    ]
    engagement = run.engagement
    return report_module.ReportInputs(
        models=[_spec(rm) for rm in sorted(candidates, key=lambda rm: rm.position)],
        cases=cases,
        results=results,
        judge=_spec(judge) if judge else None,
        workload=engagement_workload(engagement),
        credits_usd=engagement_credits_usd(engagement),
        credit_tranches=engagement_credit_tranches(engagement),
        bar_points=Decimal(run.bar_points),
        sandbox=run.sandbox,
        job_seconds=batch_job_seconds(run, keys) if run.mode == RunMode.BATCH else None,
    )


def batch_job_seconds(run: BakeoffRun, keys: dict[int, str]) -> dict[str, list[float]]:
    """Per candidate model key, how long each of its ended batch jobs took (seconds)."""
    seconds: dict[str, list[float]] = {}
    for job in run.batch_jobs.filter(ended_at__isnull=False, submitted_at__isnull=False):
        seconds.setdefault(keys[job.run_model_id], []).append(job.duration_seconds)
    return seconds


def run_report(run: BakeoffRun, *, only_cases: set[int] | None = None) -> dict:
    """The report stored on the run, with where it came from."""
    report = report_module.build_report(report_inputs(run, only_cases=only_cases))
    report["run"] = {
        "id": run.pk,
        "eval_set": run.eval_set.name,
        "engagement_id": run.engagement_id,
        "temperature": str(run.temperature),
        "max_tokens": run.max_tokens,
        "pairs": run.total_pairs,
        "done": run.done_count,
        "failed": run.failed_count,
        "estimated_cost_usd": None if run.estimated_cost_usd is None else str(run.estimated_cost_usd),
        "estimated_cost_max_usd": None if run.estimated_cost_max_usd is None else str(run.estimated_cost_max_usd),
        "endpoint": "sandbox" if run.sandbox else "bedrock",
        "mode": run.mode,
    }
    intake = getattr(run.engagement, "intake", None) if run.engagement_id else None
    report["founder_needs"] = {"open_weights": bool(intake and intake.needs_open_weights),
                               "fine_tuning": bool(intake and intake.needs_fine_tuning)}
    report["sample_size"] = recommendation_module.sample_size(report)
    report["recommendation"] = recommendation_module.recommendation(report, report["sample_size"])
    return report


# --------------------------------------------------------------------------- report page


def run_candidates(run: BakeoffRun) -> list[RunModel]:
    return list(run.run_models.filter(role=RunModelRole.CANDIDATE).select_related("catalog_model").order_by("position"))


def run_latencies(run: BakeoffRun) -> dict[str, list[int]]:
    """Per candidate model key, the latency of every call that answered (ms)."""
    keys = {rm.pk: _model_key(rm) for rm in run_candidates(run)}
    latencies: dict[str, list[int]] = {key: [] for key in keys.values()}
    rows = BakeoffResult.objects.filter(run=run, status=ResultStatus.OK, latency_ms__isnull=False,
                                        run_model_id__in=keys).values_list("run_model_id", "latency_ms")
    for rm_id, latency in rows:
        latencies[keys[rm_id]].append(latency)
    return latencies


@dataclass(frozen=True)
class CaseRow:
    case: object
    results: list  # one BakeoffResult or None per candidate, in model order


def run_case_rows(run: BakeoffRun, *, offset: int = 0, limit: int = 25,
                  only_disagreements: bool = False) -> tuple[list[CaseRow], int]:
    """A page of cases with every model's answer side by side, and the number of cases in all.
    With only_disagreements, just the cases the models did not all pass or all fail."""
    candidates = run_candidates(run)
    cases = run.eval_set.cases.order_by("line")
    if only_disagreements:
        mixed = (
            BakeoffResult.objects.filter(run=run, run_model__in=candidates).values("case_id")
            .annotate(passed=Count("id", filter=Q(passed=True)), total=Count("id"))
            .exclude(passed=0).exclude(passed=F("total")).values("case_id")
        )
        cases = cases.filter(pk__in=mixed)
    total = cases.count()
    page = list(cases[offset:offset + limit])
    found = {
        (r.case_id, r.run_model_id): r
        for r in BakeoffResult.objects.filter(run=run, case__in=page, run_model__in=candidates)
    }
    rows = [CaseRow(case=case, results=[found.get((case.pk, rm.pk)) for rm in candidates]) for case in page]
    return rows, total


def run_result_rows(run: BakeoffRun):
    """Every result of the run, flat, for the CSV export (streams; no model objects)."""
    return (
        BakeoffResult.objects.filter(run=run)
        .order_by("case__line", "run_model__role", "run_model__position")
        .values_list("case__line", "case__case_id", "case__category", "case__scorer", "run_model__catalog_model__name",
                     "run_model__invoked_id", "run_model__role", "status", "passed", "score", "latency_ms",
                     "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "attempts",
                     "error_code", "output", "score_detail")
        .iterator(chunk_size=2000)
    )


def run_shared_with_founder(engagement) -> BakeoffRun | None:
    """The latest finished run the partner shared on this engagement's founder status page."""
    return (
        _runs_of_holder(engagement).filter(shared_with_founder=True, status="finished")
        .exclude(report__isnull=True).order_by("-finished_at", "-pk").first()
    )


def _runs_of_holder(engagement) -> QuerySet[BakeoffRun]:
    """The engagement's runs by the firm that holds it: a firm that declined it (or a run made before
    it was accepted elsewhere) never speaks to its founder nor prices its ACE opportunity."""
    if engagement.partner_id is None:
        return BakeoffRun.objects.none()
    return BakeoffRun.objects.filter(engagement=engagement, partner_id=engagement.partner_id)


# An engagement the firm works on: the founder's prompts and workload are the firm's to test with.
ENGAGEMENT_WORK_STATUSES = ("accepted", "in_progress")


def engagement_held_by(engagement, partner, *, statuses: Sequence[str] | None = None) -> bool:
    """Whether the engagement is (still) with `partner`, in one of `statuses` when given: work tied
    to an engagement (an eval set, a run, a summary shared with its founder) belongs to the firm
    that holds it, never to one that declined it or has not accepted it. Read afresh: the caller's
    copy may predate an accept or a decline."""
    if partner is None:
        return False
    rows = type(engagement).objects.filter(pk=engagement.pk, partner_id=partner.pk)
    return (rows if statuses is None else rows.filter(status__in=statuses)).exists()
