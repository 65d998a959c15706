"""Bake-off verbs: upload an eval set, estimate, launch, dispatch, record results, cancel, resume,
finalize. Each runs in one transaction and records status history; tasks and the CLI call these."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from core.errors import DomainError
from core.inputs import text_problem

from . import batch as batch_wire
from . import converse as bedrock
from . import costs
from .converse import is_local_endpoint
from .evalsets import parse_eval_file
from .hosting import hourly_pricing_snapshot
from .models import (
    ACTIVE_STATUSES,
    BATCH_JOB_ENDED,
    RUN_MOVES,
    BakeoffResult,
    BatchJob,
    BatchJobStatus,
    BakeoffRun,
    CatalogKind,
    CatalogModel,
    EvalCase,
    EvalSet,
    InferenceProfile,
    ResultStatus,
    RunModel,
    RunMode,
    RunModelRole,
    RunStatus,
    RunStatusChange,
)

log = logging.getLogger(__name__)


class BakeoffError(DomainError):
    """A bake-off request that cannot be carried out, with a message fit for the user."""


class EvalSetInvalid(BakeoffError):
    """The uploaded eval set has bad rows; nothing was stored. ``errors`` lists every one."""

    status_code = 400
    code = "invalid"

    def __init__(self, errors: Sequence) -> None:
        self.errors = list(errors)
        lines = "; ".join(f"line {e.line}: {e.message}" for e in self.errors[:20])
        more = f" (and {len(self.errors) - 20} more)" if len(self.errors) > 20 else ""
        super().__init__(f"The eval set has {len(self.errors)} bad row(s): {lines}{more}")

    def field_errors(self) -> dict[str, list[str]]:
        return {"file": [str(e) for e in self.errors] or [str(self)]}


# --------------------------------------------------------------------------- eval sets


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


@transaction.atomic
def evalset_upload(*, name: str, data: bytes, filename: str, partner=None, engagement=None,
                   owner=None) -> EvalSet:
    """Store an uploaded JSONL/CSV eval set, or nothing at all when any row is bad."""
    bad = {field: [f"This value {text_problem(value)}."] for field, value in (("name", name), ("file", filename))
           if text_problem(value or "")}
    if bad:
        raise ValidationError(bad)
    parsed = parse_eval_file(data, filename=filename)
    if not parsed.ok or parsed.errors:
        raise EvalSetInvalid(parsed.errors)
    if not parsed.cases:
        raise BakeoffError("The eval set has no cases.")
    if partner is None and engagement is not None:
        partner = engagement.partner
    if engagement is not None and not engagement_held_by(engagement, partner, statuses=ENGAGEMENT_WORK_STATUSES):
        raise ValidationError({"engagement": ["An eval set can be tied only to an engagement your firm has accepted."]})
    eval_set = EvalSet(name=name, filename=filename, partner=partner, engagement=engagement,
                       created_by=owner, case_count=len(parsed.cases))
    eval_set.full_clean()
    eval_set.save()
    EvalCase.objects.bulk_create(
        EvalCase(
            eval_set=eval_set, line=c.line, prompt=c.prompt, expected=c.expected or "", scorer=c.scorer,
            scorer_options=c.scorer_options or {}, system_prompt=c.system_prompt or "",
            category=c.category or "", case_id=c.case_id,
        )
        for c in parsed.cases
    )
    return eval_set


# --------------------------------------------------------------------------- estimate


def run_model_prices(run_model: RunModel) -> costs.Prices:
    return costs.Prices(
        input_per_1m=run_model.input_per_1m,
        output_per_1m=run_model.output_per_1m,
        cache_read_per_1m=run_model.cache_read_per_1m,
        cache_write_per_1m=run_model.cache_write_per_1m,
        batch_discount=run_model.batch_discount,
    )


def catalog_prices(model: "CatalogModel | ModelChoice") -> costs.Prices:
    choice = as_choice(model)
    return costs.Prices(batch_discount=choice.model.batch_discount, **choice.prices())


@dataclass(frozen=True)
class ModelChoice:
    """A catalog model and the id a run will call it through (its default id or a global. profile)."""

    model: CatalogModel
    invoked_id: str

    @property
    def pk(self) -> int:
        return self.model.pk

    @property
    def model_id(self) -> str:
        return self.model.model_id

    @property
    def name(self) -> str:
        return self.model.name

    def prices(self) -> dict[str, Decimal | None]:
        return self.model.invoked_prices(self.invoked_id)


def as_choice(item: "CatalogModel | ModelChoice") -> ModelChoice:
    return item if isinstance(item, ModelChoice) else ModelChoice(item, item.invoked_id)


@dataclass(frozen=True)
class ModelEstimate:
    model_id: str
    invoked_id: str
    expected_usd: Decimal  # typical: replies as long as the expected answers
    upper_bound_usd: Decimal  # every reply at max_tokens
    input_tokens_counted: bool = False  # input tokens from CountTokens, not the per-family ratio
    piloted: bool = False  # answer length (and input tokens) measured on a pilot of real calls
    self_hosted: bool = False  # no token prices: its GPUs are priced from the throughput the run measures


@dataclass(frozen=True)
class RunCostEstimate:
    cases: int
    models: list[ModelEstimate]
    expected_usd: Decimal
    upper_bound_usd: Decimal
    sandbox: bool = False  # the run will call the local sandbox: it bills $0

    @property
    def billed_usd(self) -> Decimal | None:
        """What AWS will bill: $0 on the sandbox, else not known before the run."""
        return Decimal(0) if self.sandbox else None


# CountTokens is asked about this many cases per model; their measured/approx ratio scales the rest.
COUNT_TOKENS_SAMPLE = 20


def _counted_input_ratio(model: ModelChoice, texts: list[tuple[str, str]], endpoint_url: str | None) -> Decimal | None:
    """Real input tokens / approx_tokens over a sample of cases, from Bedrock's CountTokens, which
    takes the bare foundation-model id (never a profile id) of the Claude models that support it;
    None when the model or endpoint cannot answer."""
    if model.model.family != "claude" or not texts:
        return None
    client = bedrock.make_client(endpoint_url=endpoint_url)
    counted = approx = 0
    try:
        for prompt, system in texts[:COUNT_TOKENS_SAMPLE]:
            counted += bedrock.count_tokens(client, model_id=model.model_id, prompt=prompt, system_prompt=system or "")
            approx += costs.approx_tokens((system or "") + prompt)
    except (bedrock.ConverseError, KeyError, ValueError) as exc:
        log.info("CountTokens unavailable for %s (%s); using the family ratio", model.invoked_id, exc)
        return None
    return Decimal(counted) / approx if approx else None


@dataclass(frozen=True)
class _Pilot:
    input_ratio: Decimal  # billed input tokens / approx_tokens of the prompts
    mean_output_tokens: Decimal


def _pilot(model: ModelChoice, rows: list[tuple[str, str]], endpoint_url: str | None, *,
           max_tokens: int, temperature: float) -> _Pilot | None:
    """Call the model for real on the first cases (billed like any call) and measure its answers'
    length and its billed input; None when a call fails."""
    if not rows:
        return None
    client = bedrock.make_client(endpoint_url=endpoint_url)
    billed_input = approx = output = 0
    try:
        for prompt, system in rows:
            reply = bedrock.converse(client, model_id=model.invoked_id, prompt=prompt, system_prompt=system,
                                     max_tokens=max_tokens, temperature=temperature)
            billed_input += reply.input_tokens + reply.cache_read_tokens + reply.cache_write_tokens
            approx += costs.approx_tokens(system + prompt)
            output += reply.output_tokens
    except bedrock.ConverseError as exc:
        log.info("pilot on %s failed (%s); estimating from the expected answers", model.invoked_id, exc)
        return None
    return _Pilot(Decimal(billed_input) / approx if approx else Decimal(1), Decimal(output) / len(rows))


def bakeoff_estimate(*, eval_set: EvalSet, models: Sequence[CatalogModel | ModelChoice],
                     max_tokens: int, endpoint_url: str | None = None,
                     count_tokens: bool = False, pilot_cases: int = 0,
                     temperature: Decimal | float = 0) -> RunCostEstimate:
    """What the run will cost before it is launched, as a range: typical (replies as long as the
    eval set's expected answers) and the maximum (every reply at max_tokens). Input tokens are
    approx_tokens() scaled by the model family's ratio, or, with count_tokens, by the ratio
    CountTokens measures on a sample of the cases (where the model supports it). With pilot_cases,
    each model first answers that many cases for real: its measured answer length and billed input
    replace the expected answers and the ratios (the pilot's own calls are billed, and not counted)."""
    rows = list(eval_set.cases.values_list("prompt", "system_prompt", "scorer", "expected"))
    cases = len(rows)
    texts = [(prompt, system or "") for prompt, system, _, _ in rows]
    approx_input = (
        Decimal(sum(costs.approx_tokens(system + prompt) for prompt, system in texts)) / cases
        if cases else Decimal(0)
    )
    approx_output = costs.typical_output_tokens(
        [(scorer, expected or "") for _, _, scorer, expected in rows], max_output_tokens=max_tokens
    )
    if endpoint_url is None:
        endpoint_url = settings.BEDROCK_ENDPOINT_URL or ""
    per_model = []
    for model in map(as_choice, models):
        family = model.model.family
        self_hosted = model.model.kind == CatalogKind.SELF_HOSTED  # token prices 0: priced from throughput
        pilot = (_pilot(model, texts[:pilot_cases], endpoint_url or None, max_tokens=max_tokens,
                        temperature=float(temperature)) if pilot_cases > 0 and not self_hosted else None)
        measured = _counted_input_ratio(model, texts, endpoint_url or None) if count_tokens else None
        if measured is None and pilot is not None:
            measured = pilot.input_ratio
        avg_input = approx_input * measured if measured is not None else costs.family_tokens(approx_input, family)
        typical_output = pilot.mean_output_tokens if pilot is not None else costs.family_tokens(approx_output, family)
        est = costs.estimate_run_cost(
            catalog_prices(model), cases=cases, avg_input_tokens=avg_input, max_output_tokens=max_tokens,
            expected_output_tokens=typical_output,
        )
        per_model.append(ModelEstimate(model.model_id, model.invoked_id, est.expected, est.upper_bound,
                                       input_tokens_counted=measured is not None, piloted=pilot is not None,
                                       self_hosted=self_hosted))
    return RunCostEstimate(
        cases=cases,
        models=per_model,
        expected_usd=sum((m.expected_usd for m in per_model), Decimal(0)),
        upper_bound_usd=sum((m.upper_bound_usd for m in per_model), Decimal(0)),
        sandbox=is_local_endpoint(endpoint_url),
    )


# --------------------------------------------------------------------------- launch


_ANY_FIRM = object()


def resolve_models(models: Iterable[CatalogModel | ModelChoice | str], *,
                   partner_id: int | None | object = _ANY_FIRM) -> list[ModelChoice]:
    """Catalog models (with the id each will be called through) for ids, profile ids or names.
    A base id, the model's default profile id or its name picks the model's default id; any other
    listed profile id (a global. one, billed at the listed rate) is called as given.
    partner_id: the firm the run is for; another firm's own entries are then as absent as a missing id
    (None: staff-managed entries only)."""
    catalog = CatalogModel.objects.all() if partner_id is _ANY_FIRM else CatalogModel.objects.for_firm(partner_id)
    resolved: list[ModelChoice] = []
    for item in models:
        if isinstance(item, (CatalogModel, ModelChoice)):
            choice = as_choice(item)
            owner = choice.model.owner_partner_id
            if partner_id is not _ANY_FIRM and owner is not None and owner != partner_id:
                raise BakeoffError(f"No catalog model {choice.model.pk!r}. Load the catalog (manage.py "
                                   "load_catalog) or check the id.")
            resolved.append(choice)
            continue
        key = str(item).strip()
        found = catalog.filter(Q(model_id=key) | Q(inference_profile_id=key)).first()
        if found is not None:
            resolved.append(ModelChoice(found, found.invoked_id))
            continue
        profile = InferenceProfile.objects.select_related("catalog_model").filter(profile_id=key).first()
        if profile is not None:
            if not profile.listed:
                raise BakeoffError(f"Bedrock no longer lists the inference profile {key!r}.")
            resolved.append(ModelChoice(profile.catalog_model, key))  # the profile asked for, at its price
            continue
        found = catalog.filter(name__iexact=key).first()
        if found is None:
            raise BakeoffError(f"No catalog model {key!r}. Load the catalog (manage.py load_catalog) or check the id.")
        resolved.append(ModelChoice(found, found.invoked_id))
    return resolved


def refuse_unoffered(choices: Sequence[ModelChoice], *, role: str = "model") -> None:
    """A new run may not use a model past end of life, withdrawn by staff, or no longer listed."""
    today = timezone.localdate()
    reasons = [reason for reason in (c.model.not_offered_reason(today) for c in choices) if reason]
    if reasons:
        raise BakeoffError(f"Not offered for new runs: {'; '.join(reasons)}. Pick another {role}.")


def _snapshot(run: BakeoffRun, choice: ModelChoice, *, role: str, position: int) -> RunModel:
    model = choice.model
    return RunModel(
        run=run, catalog_model=model, role=role, position=position, invoked_id=choice.invoked_id, kind=model.kind,
        batch_discount=model.batch_discount, batch_supported=model.batch_supported,
        prices_effective_date=model.effective_date,
        max_concurrency=max(1, model.max_concurrency), requests_per_minute=model.requests_per_minute,
        tokens_per_minute=model.tokens_per_minute, **_hourly_pricing(model), **choice.prices(),
    )


def _hourly_pricing(model: CatalogModel) -> dict[str, Any]:
    pricing = hourly_pricing_snapshot(model)
    if pricing is None:
        raise BakeoffError(f"{model.name} is a self-hosted entry without an endpoint; register its URL first.")
    return pricing


@transaction.atomic
def bakeoff_launch(*, eval_set: EvalSet, models: Sequence[CatalogModel | ModelChoice | str],
                   temperature: Decimal | float = 0,
                   max_tokens: int = 512, engagement=None, partner=None, created_by=None,
                   judge: CatalogModel | ModelChoice | str | None = None, bar_points: int = 2,
                   cache_system_prompt: bool = False, endpoint_url: str | None = None,
                   count_tokens: bool = False, estimate: RunCostEstimate | None = None,
                   batch: bool = False) -> BakeoffRun:
    """Create a run with the prices of the ids it will call frozen, and its estimate (typical and
    maximum; count_tokens: input tokens from CountTokens where the model supports it), and queue it
    for the workers. A caller that showed an ``estimate`` for these models passes it on.
    batch: each model runs as a Bedrock batch inference job, billed (and estimated) at the batch price."""
    if engagement is None:
        engagement = eval_set.engagement
    if partner is None:
        partner = eval_set.partner or (engagement.partner if engagement else None)
    if engagement is not None and not engagement_held_by(engagement, partner):
        raise BakeoffError("The eval set's engagement is no longer with your firm: upload the cases again "
                           "without it, or for an engagement your firm holds.")
    firm = partner.pk if partner is not None else None
    candidates = resolve_models(models, partner_id=firm)
    if len({m.pk for m in candidates}) != len(candidates):
        raise BakeoffError("Each model may appear only once in a bake-off.")
    if len(candidates) < 2:
        raise BakeoffError("A bake-off compares two or more models.")
    refuse_unoffered(candidates)
    case_count = eval_set.cases.count()
    if case_count == 0:
        raise BakeoffError("The eval set has no cases.")
    if batch:
        refusal = batch_refusal(models=candidates, case_count=case_count)
        if refusal:
            raise BakeoffError(refusal)
        try:
            batch_wire.require_configuration()
        except batch_wire.BatchError as exc:
            raise BakeoffError(str(exc)) from None
    needs_judge = eval_set.cases.filter(scorer="llm_judge").exists()
    judge_model = resolve_models([judge], partner_id=firm)[0] if judge else None
    if needs_judge and judge_model is None:
        judge_model = _default_judge(eval_set)
    if judge_model is not None:
        refuse_unoffered([judge_model], role="judge")
    if endpoint_url is None:
        endpoint_url = settings.BEDROCK_ENDPOINT_URL or ""
    temperature = Decimal(str(temperature))
    run = BakeoffRun(
        eval_set=eval_set, engagement=engagement, partner=partner, created_by=created_by,
        temperature=temperature, max_tokens=max_tokens, bar_points=bar_points,
        cache_system_prompt=cache_system_prompt, endpoint_url=endpoint_url,
        sandbox=is_local_endpoint(endpoint_url), total_pairs=case_count * len(candidates),
        mode=RunMode.BATCH if batch else RunMode.ON_DEMAND,
    )
    if estimate is None or [(m.model_id, m.invoked_id) for m in estimate.models] != [
        (m.model_id, m.invoked_id) for m in candidates
    ]:
        estimate = bakeoff_estimate(eval_set=eval_set, models=candidates, max_tokens=max_tokens,
                                    endpoint_url=endpoint_url, count_tokens=count_tokens)
    expected, most = estimate.expected_usd, estimate.upper_bound_usd
    if batch:
        expected = batch_estimate_usd(estimate, candidates)
        most = batch_estimate_usd(estimate, candidates, worst_case=True)
    run.estimated_cost_usd = expected.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    run.estimated_cost_max_usd = most.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    for name in ("estimated_cost_usd", "estimated_cost_max_usd"):
        column = BakeoffRun._meta.get_field(name)
        if getattr(run, name) >= Decimal(10) ** (column.max_digits - column.decimal_places):
            raise BakeoffError(f"This bake-off would cost about ${getattr(run, name):,.0f}; pick fewer models, "
                               "a lower max tokens or a smaller eval set (or check the catalog prices).")
    run.full_clean()
    run.save()
    RunModel.objects.bulk_create(
        [_snapshot(run, m, role=RunModelRole.CANDIDATE, position=i) for i, m in enumerate(candidates)]
        + ([_snapshot(run, judge_model, role=RunModelRole.JUDGE, position=0)] if judge_model else [])
    )
    RunStatusChange.objects.create(run=run, from_status="", to_status=RunStatus.QUEUED, changed_by=created_by,
                                   reason=f"{len(candidates)} models × {case_count} cases")
    from .tasks import bakeoff_dispatch_task

    transaction.on_commit(lambda: bakeoff_dispatch_task.delay(run.id))
    return run


def _default_judge(eval_set: EvalSet) -> ModelChoice:
    """The judge named in the cases' options, else the newest active mid-tier Claude (a Sonnet:
    strong enough to grade, a fifth of an Opus's price)."""
    for options in eval_set.cases.filter(scorer="llm_judge").values_list("scorer_options", flat=True):
        if isinstance(options, dict) and options.get("judge_model"):
            return resolve_models([options["judge_model"]])[0]
    claudes = CatalogModel.objects.offered().filter(family="claude", kind=CatalogKind.BEDROCK)
    judge = claudes.filter(tier="mid").order_by("-model_id").first() or claudes.order_by("-model_id").first()
    if judge is None:
        raise BakeoffError("The eval set uses llm_judge: choose a judge model.")
    return as_choice(judge)


# --------------------------------------------------------------------------- status moves


def _move(run: BakeoffRun, to: str, *, by=None, reason: str = "", **fields) -> bool:
    """Conditional status move (only from the status we read); records history when it happened."""
    current = run.status
    if to not in RUN_MOVES[current]:
        return False
    updated = BakeoffRun.objects.filter(pk=run.pk, status=current).update(status=to, **fields)
    if not updated:
        return False
    RunStatusChange.objects.create(run=run, from_status=current, to_status=to, changed_by=by, reason=reason)
    run.status = to
    for key, value in fields.items():
        setattr(run, key, value)
    return True


# --------------------------------------------------------------------------- dispatch and resume


def missing_case_ids(run: BakeoffRun) -> dict[int, list[int]]:
    """Per candidate run-model id, the case ids that have no result yet (in eval-set order)."""
    case_ids = list(run.eval_set.cases.order_by("line").values_list("id", flat=True))
    missing: dict[int, list[int]] = {}
    for run_model_id in run.run_models.filter(role=RunModelRole.CANDIDATE).values_list("id", flat=True):
        have = set(BakeoffResult.objects.filter(run_model_id=run_model_id).values_list("case_id", flat=True))
        missing[run_model_id] = [c for c in case_ids if c not in have]
    return missing


def plan_chunks(run: BakeoffRun, missing: dict[int, list[int]]) -> list[tuple[int, list[int]]]:
    """Slices of cases per model, interleaved across models so every model's chunk starts early."""
    size = max(1, settings.BAKEOFF_CHUNK_SIZE)
    per_model = {
        rm_id: [ids[i:i + size] for i in range(0, len(ids), size)] for rm_id, ids in missing.items() if ids
    }
    chunks: list[tuple[int, list[int]]] = []
    depth = max((len(v) for v in per_model.values()), default=0)
    for i in range(depth):
        for rm_id, slices in per_model.items():
            if i < len(slices):
                chunks.append((rm_id, slices[i]))
    return chunks


def bakeoff_dispatch(*, run: BakeoffRun, reason: str = "launch") -> int:
    """Send every pair still missing to the workers; returns how many pairs were sent.

    Safe to call again at any time: only missing pairs go out, and a result is stored once."""
    from .tasks import bakeoff_chunk_task

    with transaction.atomic():
        run = BakeoffRun.objects.select_for_update().get(pk=run.pk)
        if run.status == RunStatus.QUEUED:
            _move(run, RunStatus.RUNNING, reason="dispatched", started_at=timezone.now(),
                  last_progress_at=timezone.now())
        if run.status != RunStatus.RUNNING:
            return 0
        missing = missing_case_ids(run)
        jobs: list[BatchJob] = []
        queues: dict[int, list[int]] = {}
        if run.mode == RunMode.BATCH:
            jobs, chunks = _batch_plan_locked(run, missing)
            in_flight = run.batch_jobs.filter(results_read_at__isnull=True).exists()
        else:
            chunks, in_flight = [], False
            queues = {rm_id: ids for rm_id, ids in missing.items() if ids}
        if not chunks and not queues and not in_flight:
            transaction.on_commit(lambda: bakeoff_finalize(run_id=run.pk))
            return 0
        if not chunks and not jobs and not queues:
            return 0  # batch jobs in flight carry every missing pair
        if jobs:
            from .tasks import batch_submit_task

            transaction.on_commit(lambda: [batch_submit_task.delay(job.pk) for job in jobs])
        BakeoffRun.objects.filter(pk=run.pk).update(
            dispatch_count=run.dispatch_count + 1, last_progress_at=timezone.now()
        )
        transaction.on_commit(lambda: [bakeoff_chunk_task.delay(rm_id, ids) for rm_id, ids in chunks])
        if queues:
            transaction.on_commit(lambda: _start_lanes(run.pk, queues))
    sent = sum(len(ids) for _, ids in chunks) + sum(len(job.case_ids) for job in jobs)
    sent += sum(len(ids) for ids in queues.values())
    log.info("bake-off %s: %s dispatched %s pairs in %s chunks, %s lanes and %s batch jobs", run.pk, reason,
             sent, len(chunks), lane_count(queues) if queues else 0, len(jobs))
    return sent


def lane_count(queues: dict[int, list[int]]) -> int:
    """Lanes to start: BAKEOFF_LANES and at least one per model with work (a lane per worker process
    spreads the calls' CPU); never more than there are pairs. Any one lane can keep every model
    busy, and a lane that starts when the queues are empty ends at once."""
    pairs = sum(len(ids) for ids in queues.values())
    return max(1, min(max(settings.BAKEOFF_LANES, len(queues)), pairs))


def _start_lanes(run_id: int, queues: dict[int, list[int]]) -> None:
    """Fill each model's shared work queue with its missing cases (a resume replaces what a dead
    lane left behind), then queue the lanes that pull from them."""
    from .quotas import get_quota_store, work_queue_key
    from .tasks import bakeoff_lane_task

    store = get_quota_store()
    for rm_id, ids in queues.items():
        store.work_reset(work_queue_key(rm_id), [str(i) for i in ids])
    for _ in range(lane_count(queues)):
        bakeoff_lane_task.delay(run_id)


def bakeoff_resume(*, run_id: int) -> int:
    """Re-dispatch only the pairs still missing (after a worker died); idempotent."""
    run = BakeoffRun.objects.filter(pk=run_id).first()
    if run is None or run.status not in ACTIVE_STATUSES:
        return 0
    return bakeoff_dispatch(run=run, reason="resume")


def stuck_runs(*, stale_after: timedelta) -> list[int]:
    cutoff = timezone.now() - stale_after
    return list(
        BakeoffRun.objects.filter(status__in=ACTIVE_STATUSES)
        .filter(Q(last_progress_at__lt=cutoff) | Q(last_progress_at__isnull=True, created_at__lt=cutoff))
        .values_list("id", flat=True)
    )


def bakeoff_resume_stuck(*, stale_after: timedelta | None = None) -> dict[int, int]:
    """Find runs with no progress for a while and re-dispatch their missing pairs; a report build
    that died half way is started again."""
    if stale_after is None:
        stale_after = timedelta(seconds=settings.BAKEOFF_STUCK_AFTER_SECONDS)
    cutoff = timezone.now() - stale_after
    for run in BakeoffRun.objects.filter(status=RunStatus.FINALIZING, last_progress_at__lt=cutoff):
        with transaction.atomic():
            _move(run, RunStatus.RUNNING, reason="report build interrupted; building it again")
        maybe_finalize(run_id=run.pk)
    return {run_id: bakeoff_resume(run_id=run_id) for run_id in stuck_runs(stale_after=stale_after)}


# --------------------------------------------------------------------------- cancel


@transaction.atomic
def bakeoff_cancel(*, run: BakeoffRun, by=None, reason: str = "") -> bool:
    """Stop a run: no more calls are started; results already stored are kept, and a report over
    the cases every model finished is built from them (bakeoff_partial_report)."""
    run = BakeoffRun.objects.select_for_update().get(pk=run.pk)
    moved = _move(run, RunStatus.CANCELLED, by=by, reason=reason or "cancelled", finished_at=timezone.now())
    if moved:
        _queue_partial_report(run.pk)
        if run.mode == RunMode.BATCH:
            from .tasks import batch_stop_task

            transaction.on_commit(lambda: batch_stop_task.delay(run.pk), robust=True)
    return moved


def _queue_partial_report(run_id: int) -> None:
    from .tasks import bakeoff_partial_report_task

    transaction.on_commit(lambda: bakeoff_partial_report_task.delay(run_id), robust=True)


def bakeoff_partial_report(*, run_id: int) -> bool:
    """A cancelled run's report, over the cases that every candidate model finished (so each
    comparison is still paired), marked partial with how many cases it covers. Rebuilt when calls
    that were in flight at the cancel are stored later; idempotent. False when there is nothing to
    report (not cancelled, or no case finished by every model)."""
    from .selectors import complete_case_ids, run_report

    run = BakeoffRun.objects.filter(pk=run_id).select_related("eval_set", "engagement").first()
    if run is None or run.status != RunStatus.CANCELLED:
        return False
    complete = complete_case_ids(run)
    if not complete:
        return False
    report = run_report(run, only_cases=complete)
    report["partial"] = {"cases_compared": len(complete), "cases_total": run.eval_set.cases.count(),
                         "reason": "cancelled"}
    return bool(BakeoffRun.objects.filter(pk=run_id, status=RunStatus.CANCELLED).update(report=report))


# --------------------------------------------------------------------------- results and progress


def bakeoff_record_results(*, run_id: int, results: Sequence[BakeoffResult], sandbox: bool = False) -> None:
    """Store results (a pair already stored is left as it was), refresh the live counts, and
    finalize the run when every pair is in."""
    if results:
        with transaction.atomic():
            BakeoffResult.objects.bulk_create(results, ignore_conflicts=True)
    # Counted after our insert committed, so whoever counts last sees every stored result.
    refresh_progress(run_id=run_id, sandbox=sandbox)
    if maybe_finalize(run_id=run_id):
        return
    if results and BakeoffRun.objects.filter(pk=run_id, status=RunStatus.CANCELLED).exists():
        _queue_partial_report(run_id)  # calls that were in flight at the cancel: report them too


@transaction.atomic
def refresh_progress(*, run_id: int, sandbox: bool = False) -> None:
    """Counts from the results table itself, so a retried batch can never count twice. The run row
    is locked first: two chunks counting at once cannot leave the older count behind."""
    if not BakeoffRun.objects.select_for_update().filter(pk=run_id).exists():
        return
    counts = BakeoffResult.objects.filter(run_id=run_id).aggregate(
        done=Count("id", filter=Q(status=ResultStatus.OK)),
        failed=Count("id", filter=Q(status=ResultStatus.ERROR)),
    )
    fields = {"done_count": counts["done"], "failed_count": counts["failed"], "last_progress_at": timezone.now()}
    if sandbox:
        fields["sandbox"] = True
    BakeoffRun.objects.filter(pk=run_id).update(**fields)


def maybe_finalize(*, run_id: int) -> bool:
    run = BakeoffRun.objects.filter(pk=run_id).only("status", "total_pairs", "done_count", "failed_count").first()
    if run is None or run.status != RunStatus.RUNNING or run.remaining_count > 0:
        return False
    return bakeoff_finalize(run_id=run_id)


def bakeoff_finalize(*, run_id: int) -> bool:
    """Build and store the report exactly once: only the caller that moves RUNNING → FINALIZING does it."""
    from .selectors import run_report

    with transaction.atomic():
        run = BakeoffRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING:
            return False
        refresh_progress(run_id=run_id)
        run.refresh_from_db()
        if run.remaining_count > 0:
            return False
        _move(run, RunStatus.FINALIZING, reason="every pair has a result", last_progress_at=timezone.now())
    try:
        report = run_report(run)
    except Exception as exc:  # the report is data the partner waits for: say why it is missing
        log.exception("bake-off %s: report failed", run_id)
        with transaction.atomic():
            _move(run, RunStatus.FAILED, reason=f"report failed: {exc}", error=str(exc), finished_at=timezone.now())
        return False
    with transaction.atomic():
        _move(run, RunStatus.FINISHED, reason="report stored", report=report, finished_at=timezone.now())
    return True


# --------------------------------------------------------------------------- sharing


@transaction.atomic
def bakeoff_share(*, run: BakeoffRun, shared: bool, by=None) -> BakeoffRun:
    """Show (or stop showing) a finished run's summary on the founder's status page."""
    run = BakeoffRun.objects.select_for_update().get(pk=run.pk)
    if shared and run.status != RunStatus.FINISHED:
        raise BakeoffError("Only a finished bake-off with its report can be shared.")
    if shared and (run.engagement is None or not engagement_held_by(run.engagement, run.partner)):
        raise BakeoffError("Only a bake-off on an engagement your firm holds can be shared with its founder.")
    if run.shared_with_founder != shared:
        run.shared_with_founder = shared
        run.save(update_fields=["shared_with_founder"])
        RunStatusChange.objects.create(
            run=run, from_status=run.status, to_status=run.status, changed_by=by,
            reason="shared with the founder" if shared else "no longer shared with the founder",
        )
    return run


# --------------------------------------------------------------------------- batch inference


def batch_refusal(*, models: Sequence[CatalogModel | ModelChoice], case_count: int) -> str | None:
    """Why these models and this many cases cannot run as Bedrock batch jobs (None: they can)."""
    # A self-hosted endpoint has no batch jobs, and a custom model's capacity is billed by the hour (or
    # its deployment per token on demand): batch bake-offs take Bedrock foundation models only.
    self_hosted = [as_choice(m).name for m in models if as_choice(m).model.kind == CatalogKind.SELF_HOSTED]
    if self_hosted:
        return (f"{', '.join(self_hosted)} {'is' if len(self_hosted) == 1 else 'are'} self-hosted: batch jobs run "
                "only on Bedrock. Run this bake-off on demand.")
    custom = [as_choice(m).name for m in models if as_choice(m).model.kind != CatalogKind.BEDROCK]
    if custom:
        return f"Batch bake-offs take Bedrock foundation models only, not {', '.join(custom)}."
    no_batch = [as_choice(m).name for m in models if not as_choice(m).model.batch_supported]
    if no_batch:
        return f"Bedrock offers no batch inference for {', '.join(no_batch)}."
    minimum = settings.BAKEOFF_BATCH_MIN_RECORDS
    if case_count < minimum:
        return (f"A Bedrock batch job needs at least {minimum} records (AWS quota); "
                f"this eval set has {case_count} cases.")
    return None


def batch_estimate_usd(estimate: RunCostEstimate, models: Sequence[CatalogModel | ModelChoice], *,
                       worst_case: bool = False) -> Decimal:
    """The cost of a batch run: each model's estimate (typical, or at most) at its batch discount."""
    discounts = {as_choice(m).invoked_id: as_choice(m).model.batch_discount for m in models}
    return sum(((m.upper_bound_usd if worst_case else m.expected_usd) * (1 - discounts[m.invoked_id])
                for m in estimate.models), Decimal(0))


def _control_endpoint(run: BakeoffRun) -> str:
    """The sandbox serves the control plane on its own port; real runs use the configured endpoint."""
    return run.endpoint_url if run.sandbox else settings.BEDROCK_CONTROL_ENDPOINT_URL


def _batch_plan_locked(run: BakeoffRun, missing: dict[int, list[int]]) -> tuple[list[BatchJob], list]:
    """New batch jobs (stored, not yet submitted) for the missing pairs of each model without a job
    in flight; pairs too few for a job, or a model whose jobs kept failing, go on demand."""
    jobs: list[BatchJob] = []
    on_demand: dict[int, list[int]] = {}
    prefix = batch_wire.run_prefix(run.pk)
    for rm in run.run_models.filter(role=RunModelRole.CANDIDATE):
        ids = missing.get(rm.pk) or []
        if not ids:
            continue
        previous = list(rm.batch_jobs.all())
        if any(job.results_read_at is None for job in previous):
            continue  # a job in flight (or its output not yet read) still covers these pairs
        attempt = len(previous) + 1
        if attempt > settings.BAKEOFF_BATCH_MAX_JOBS or len(ids) < settings.BAKEOFF_BATCH_MIN_RECORDS:
            on_demand[rm.pk] = ids
            continue
        folder = f"{prefix}model-{rm.pk}/job-{attempt}/"
        bucket = settings.BAKEOFF_BATCH_BUCKET
        jobs.append(BatchJob.objects.create(
            run=run, run_model=rm, attempt=attempt, model_id=rm.invoked_id, case_ids=ids,
            client_request_token=batch_wire.client_request_token(run.pk, rm.pk, attempt),
            job_name=batch_wire.job_name(run.pk, rm.pk, attempt),
            input_uri=batch_wire.s3_uri(bucket, f"{folder}input/records.jsonl"),
            output_uri=batch_wire.s3_uri(bucket, f"{folder}output/"),
        ))
    return jobs, plan_chunks(run, on_demand)


def batch_submit(*, job_id: int) -> bool:
    """Write the job's input records to S3 and create the Bedrock job with its derived client
    request token (a second call returns the same job); stores the job ARN. Safe to repeat."""
    job = BatchJob.objects.select_related("run", "run_model").filter(pk=job_id).first()
    if job is None or job.job_arn or job.status != BatchJobStatus.PENDING or job.run.status != RunStatus.RUNNING:
        return False
    run = job.run
    cases = EvalCase.objects.filter(pk__in=job.case_ids).order_by("line")
    records = [(case.pk, batch_wire.model_input(
        job.model_id, prompt=case.prompt, system_prompt=case.system_prompt, max_tokens=run.max_tokens,
        temperature=float(run.temperature))) for case in cases]
    try:
        s3 = batch_wire.storage_client()
        batch_wire.ensure_bucket(s3)
        bucket, key = batch_wire.split_s3_uri(job.input_uri)
        batch_wire.put_input(s3, key, batch_wire.input_jsonl(records))
        arn = batch_wire.create_job(
            batch_wire.control_client(_control_endpoint(run)), name=job.job_name, token=job.client_request_token,
            model_id=job.model_id, input_uri=job.input_uri, output_uri=job.output_uri,
        )
    except batch_wire.BatchError as exc:
        permanent = isinstance(exc.__cause__, batch_wire.ClientError)
        log.warning("bake-off %s: batch job %s not submitted: %s", run.pk, job.job_name, exc)
        fields = {"message": str(exc)[:2000]}
        if permanent:  # Bedrock refused it: a new job or on-demand calls take the pairs
            fields.update(status=BatchJobStatus.FAILED, ended_at=timezone.now())
        BatchJob.objects.filter(pk=job.pk, job_arn="").update(**fields)
        return False
    now = timezone.now()
    BatchJob.objects.filter(pk=job.pk, job_arn="").update(
        job_arn=arn, status=BatchJobStatus.SUBMITTED, submitted_at=now, records_total=len(records))
    BakeoffRun.objects.filter(pk=run.pk).update(last_progress_at=now)
    return True


def _job_time(value):
    return value if value is None or timezone.is_aware(value) else timezone.make_aware(value, timezone.utc)


def batch_collect(*, job: BatchJob) -> int:
    """Read the job's output records, score them and store each (case, model) once; per-record
    errors are stored as errors. Reading the same file again stores nothing twice (one result per
    pair, insert-if-absent), so a worker killed between reading and storing loses nothing."""
    from .runner import batch_judge  # noqa: PLC0415 - the runner imports this module

    run, rm = job.run, job.run_model
    family = batch_wire.family_of(job.model_id)
    data = None
    if job.job_arn:
        bucket, key = batch_wire.output_key(job.output_uri, job.job_arn, job.input_uri)
        data = batch_wire.read_output(batch_wire.storage_client(), bucket, key)
    outcomes, unreadable = batch_wire.parse_output_file(data or b"", family)
    if unreadable:
        log.warning("bake-off %s: %s unreadable lines in the output of %s", run.pk, unreadable, job.job_name)
    wanted = set(job.case_ids)
    cases = {c.pk: c for c in EvalCase.objects.filter(pk__in=[o.case_id for o in outcomes if o.case_id in wanted])}
    judge = None
    if any(c.scorer == "llm_judge" for c in cases.values()):
        judge = batch_judge(run)
    results = []
    for outcome in outcomes:
        case = cases.get(outcome.case_id)
        if case is None:
            continue
        if not outcome.ok:
            results.append(BakeoffResult(
                run=run, run_model=rm, case=case, batch_job=job, status=ResultStatus.ERROR,
                error_code=outcome.error_code, error_message=outcome.error_message, passed=False, score=0.0))
            continue
        result = BakeoffResult(
            run=run, run_model=rm, case=case, batch_job=job, status=ResultStatus.OK, output=outcome.text,
            stop_reason=outcome.stop_reason, input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens)
        result.passed, result.score, result.score_detail = False, 0.0, ""
        try:
            from . import scorers  # noqa: PLC0415

            score = scorers.score_output(case.scorer, output=outcome.text, expected=case.expected,
                                         options=case.scorer_options or {}, judge=judge)
        except Exception as exc:  # noqa: BLE001 - a scorer failure is the case's verdict, not the job's
            result.score_detail = f"not scored: {exc}"[:2000]
        else:
            result.passed, result.score, result.score_detail = score.passed, score.score, (score.detail or "")[:2000]
            result.judge_input_tokens = score.judge_input_tokens or 0
            result.judge_output_tokens = score.judge_output_tokens or 0
        results.append(result)
    bakeoff_record_results(run_id=run.pk, results=results)
    BatchJob.objects.filter(pk=job.pk, results_read_at__isnull=True).update(results_read_at=timezone.now())
    return len(results)


def batch_poll(*, run_id: int | None = None) -> dict[int, str]:
    """One look at every batch job whose output is not yet stored (of one run, or all): submit the
    ones not yet created, read Bedrock's status, collect the ended ones, and send pairs a failed,
    stopped or expired job left missing to a new job (or on demand). Beat runs it; the CLI calls it
    directly. Returns {job id: status}."""
    jobs = BatchJob.objects.select_related("run", "run_model").filter(
        results_read_at__isnull=True, run__status__in=(RunStatus.RUNNING, RunStatus.CANCELLED))
    if run_id is not None:
        jobs = jobs.filter(run_id=run_id)
    seen: dict[int, str] = {}
    runs: set[int] = set()
    clients: dict[str, Any] = {}
    for job in jobs:
        runs.add(job.run_id)
        if not job.job_arn:
            if job.status == BatchJobStatus.PENDING and job.run.status == RunStatus.RUNNING:
                batch_submit(job_id=job.pk)
            elif job.status in BATCH_JOB_ENDED or job.run.status != RunStatus.RUNNING:
                BatchJob.objects.filter(pk=job.pk).update(
                    status=job.status if job.ended else BatchJobStatus.STOPPED, results_read_at=timezone.now())
            seen[job.pk] = BatchJob.objects.get(pk=job.pk).status
            continue
        endpoint = _control_endpoint(job.run)
        client = clients.get(endpoint) or clients.setdefault(endpoint, batch_wire.control_client(endpoint))
        try:
            answer = batch_wire.get_job(client, job.job_arn)
        except batch_wire.BatchError as exc:
            log.warning("bake-off %s: %s", job.run_id, exc)
            seen[job.pk] = job.status
            continue
        job.status = answer.get("status") or job.status
        job.message = (answer.get("message") or "")[:2000]
        job.records_total = answer.get("totalRecordCount", job.records_total)
        job.records_processed = answer.get("processedRecordCount", job.records_processed)
        job.records_succeeded = answer.get("successRecordCount", job.records_succeeded)
        job.records_failed = answer.get("errorRecordCount", job.records_failed)
        job.submitted_at = _job_time(answer.get("submitTime")) or job.submitted_at
        job.ended_at = _job_time(answer.get("endTime")) or (timezone.now() if job.ended else None)
        job.save(update_fields=["status", "message", "records_total", "records_processed", "records_succeeded",
                                "records_failed", "submitted_at", "ended_at"])
        if job.ended:
            try:
                batch_collect(job=job)
            except batch_wire.BatchError as exc:  # e.g. S3 unreachable: read it on the next poll
                log.warning("bake-off %s: output of %s not read: %s", job.run_id, job.job_name, exc)
        seen[job.pk] = job.status
    for rid in runs:
        BakeoffRun.objects.filter(pk=rid, status=RunStatus.RUNNING).update(last_progress_at=timezone.now())
        run = BakeoffRun.objects.filter(pk=rid, status=RunStatus.RUNNING).first()
        if run is not None:
            bakeoff_dispatch(run=run, reason="batch poll")
    return seen


def batch_stop(*, run_id: int) -> int:
    """StopModelInvocationJob for every job of the run still in flight (a cancelled run); a job not
    yet created is marked stopped. Records the job answered before stopping are still collected."""
    stopped = 0
    for job in BatchJob.objects.select_related("run").filter(run_id=run_id, results_read_at__isnull=True):
        if job.ended:
            continue
        if not job.job_arn:
            BatchJob.objects.filter(pk=job.pk, job_arn="").update(status=BatchJobStatus.STOPPED,
                                                                  ended_at=timezone.now())
            continue
        try:
            if batch_wire.stop_job(batch_wire.control_client(_control_endpoint(job.run)), job.job_arn):
                stopped += 1
                BatchJob.objects.filter(pk=job.pk).exclude(status__in=BATCH_JOB_ENDED).update(
                    status=BatchJobStatus.STOPPING)
        except batch_wire.BatchError as exc:
            log.warning("bake-off %s: %s", run_id, exc)
    return stopped


def batch_files_delete(*, run_id: int) -> int:
    """Remove the S3 objects written for a run (its input and output files)."""
    if not settings.BAKEOFF_BATCH_BUCKET:
        return 0
    try:
        return batch_wire.delete_prefix(batch_wire.storage_client(), batch_wire.run_prefix(run_id))
    except (batch_wire.ClientError, batch_wire.BotoCoreError) as exc:
        log.warning("bake-off %s: batch files not removed: %s", run_id, exc)
        return 0


def batch_files_expire(*, now=None) -> list[int]:
    """Remove the S3 files of batch runs that ended more than BAKEOFF_BATCH_RETENTION_DAYS ago
    (0 keeps them until the run is deleted). The runs and their results stay. Returns the run ids."""
    days = settings.BAKEOFF_BATCH_RETENTION_DAYS
    if days <= 0:
        return []
    cutoff = (now or timezone.now()) - timedelta(days=days)
    expired = list(BakeoffRun.objects.filter(
        mode=RunMode.BATCH, status__in=(RunStatus.FINISHED, RunStatus.CANCELLED, RunStatus.FAILED),
        finished_at__lt=cutoff, batch_files_removed_at__isnull=True).values_list("id", flat=True))
    for run_id in expired:
        batch_files_delete(run_id=run_id)
        BakeoffRun.objects.filter(pk=run_id).update(batch_files_removed_at=timezone.now())
    return expired
