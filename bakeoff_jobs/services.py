"""Bake-off verbs: upload an eval set, launch a run, dispatch its missing pairs to the workers,
resume, cancel, share. Each runs in one transaction and records status history; tasks, the pages,
the API and the CLI call these. Beside them: estimates.py (the cost before launch), planning.py
(which pairs go out, and how), progress.py (results stored, the report built once), batch_runs.py
(Bedrock batch jobs), runner.py (the calls). Work is queued by task name (enqueue.py), so this
module never imports tasks.py."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import DomainError
from core.inputs import text_problem

from . import batch as batch_wire
from . import enqueue
from .converse import is_local_endpoint
from .estimates import (
    ModelChoice,
    RunCostEstimate,
    as_choice,
    bakeoff_estimate,
    batch_estimate_usd,
    batch_refusal,
)
from .evalsets import parse_eval_file
from .hosting import hourly_pricing_snapshot
from .catalog_models import CatalogKind, CatalogModel, InferenceProfile
from .models import (
    ACTIVE_STATUSES,
    BakeoffRun,
    BatchJob,
    EvalCase,
    EvalSet,
    RunMode,
    RunModel,
    RunModelRole,
    RunStatus,
    RunStatusChange,
)
from .planning import batch_jobs_plan, lane_count, missing_case_ids
from .progress import bakeoff_finalize, maybe_finalize, queue_partial_report, run_move
from .quotas import get_quota_store, work_queue_key
from .selectors import ENGAGEMENT_WORK_STATUSES, engagement_held_by

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


# --------------------------------------------------------------------------- launch


ANY_FIRM = object()  # resolve_models for CloudRoute staff: every firm's entries


def resolve_models(models: Iterable[CatalogModel | ModelChoice | str], *,
                   partner_id: int | None | object) -> list[ModelChoice]:
    """Catalog models (with the id each will be called through) for ids, profile ids or names.
    A base id, the model's default profile id or its name picks the model's default id; any other
    listed profile id (a global. one, billed at the listed rate) is called as given.
    partner_id (always given, so no caller forgets whose catalog it reads): the firm the run is for;
    another firm's own entries are then as absent as a missing id, by id, name, catalog row or
    inference profile (None: staff-managed entries only; ANY_FIRM: every entry, for staff)."""
    catalog = CatalogModel.objects.all() if partner_id is ANY_FIRM else CatalogModel.objects.for_firm(partner_id)
    resolved: list[ModelChoice] = []
    for item in models:
        if isinstance(item, (CatalogModel, ModelChoice)):
            choice = as_choice(item)
            owner = choice.model.owner_partner_id
            if partner_id is not ANY_FIRM and owner is not None and owner != partner_id:
                raise BakeoffError(f"No catalog model {choice.model.pk!r}. Load the catalog (manage.py "
                                   "load_catalog) or check the id.")
            resolved.append(choice)
            continue
        key = str(item).strip()
        found = catalog.filter(Q(model_id=key) | Q(inference_profile_id=key)).first()
        if found is not None:
            resolved.append(ModelChoice(found, found.invoked_id))
            continue
        profile = (InferenceProfile.objects.select_related("catalog_model")
                   .filter(profile_id=key, catalog_model__in=catalog).first())
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


# How long a form's one-time token is remembered: a page sent again within it (a double click, the
# browser's back and resend) shows what the first sending made instead of making another.
FORM_TOKEN_SECONDS = 24 * 3600
FORM_TOKEN_WAIT_SECONDS = 10.0


def _made_once(*, kind: str, by, token: str, model, make):
    """make() for the first sending of one form page (`token`, one per rendered page) by `by`; the
    same token again returns the row the first made (a `model` instance) and makes nothing, also
    while the first request is still at work (it waits; None if that did not finish in time). A
    first sending that failed frees the token, so the corrected form can be sent again."""
    from django.core.cache import cache

    key = f"form-once:{kind}:{getattr(by, 'pk', None)}:{token}"
    if not cache.add(key, "", timeout=FORM_TOKEN_SECONDS):
        deadline = time.monotonic() + FORM_TOKEN_WAIT_SECONDS
        while time.monotonic() < deadline:
            made_id = cache.get(key)
            if made_id:
                return model.objects.filter(pk=made_id).first()
            if made_id is None:  # the first sending failed and freed the token: this one may try
                return _made_once(kind=kind, by=by, token=token, model=model, make=make)
            time.sleep(0.1)
        return None
    try:
        made = make()
    except BaseException:
        cache.delete(key)
        raise
    cache.set(key, made.pk, timeout=FORM_TOKEN_SECONDS)
    return made


def bakeoff_launch_once(*, token: str, created_by, **launch) -> BakeoffRun | None:
    """bakeoff_launch for one confirmation of an estimate (`token`, one per estimate page): the same
    token again returns the run it launched and launches nothing (see _made_once)."""
    return _made_once(kind="bakeoff-launch", by=created_by, token=token, model=BakeoffRun,
                      make=lambda: bakeoff_launch(created_by=created_by, **launch))


def evalset_upload_once(*, token: str, owner, **upload) -> EvalSet | None:
    """evalset_upload for one sending of the upload page (`token`): the same page sent twice stores
    one eval set (see _made_once)."""
    return _made_once(kind="evalset-upload", by=owner, token=token, model=EvalSet,
                      make=lambda: evalset_upload(owner=owner, **upload))


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
        judge_model = _default_judge(eval_set, partner_id=firm)
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
    transaction.on_commit(lambda: enqueue.enqueue(enqueue.DISPATCH, run.id))
    return run


def _default_judge(eval_set: EvalSet, *, partner_id: int | None) -> ModelChoice:
    """The judge named in the cases' options (from the firm's catalog: an uploaded file never names
    another firm's own entry into a run), else the newest active mid-tier Claude (a Sonnet: strong
    enough to grade, a fifth of an Opus's price)."""
    for options in eval_set.cases.filter(scorer="llm_judge").values_list("scorer_options", flat=True):
        if isinstance(options, dict) and options.get("judge_model"):
            return resolve_models([options["judge_model"]], partner_id=partner_id)[0]
    claudes = CatalogModel.objects.offered().filter(family="claude", kind=CatalogKind.BEDROCK)
    judge = claudes.filter(tier="mid").order_by("-model_id").first() or claudes.order_by("-model_id").first()
    if judge is None:
        raise BakeoffError("The eval set uses llm_judge: choose a judge model.")
    return as_choice(judge)


# --------------------------------------------------------------------------- dispatch and resume


def bakeoff_dispatch(*, run: BakeoffRun, reason: str = "launch") -> int:
    """Send every pair still missing to the workers; returns how many pairs were sent.

    Safe to call again at any time: only missing pairs go out, and a result is stored once."""
    with transaction.atomic():
        run = BakeoffRun.objects.select_for_update().get(pk=run.pk)
        if run.status == RunStatus.QUEUED:
            run_move(run, RunStatus.RUNNING, reason="dispatched", started_at=timezone.now(),
                  last_progress_at=timezone.now())
        if run.status != RunStatus.RUNNING:
            return 0
        missing = missing_case_ids(run)
        jobs: list[BatchJob] = []
        queues: dict[int, list[int]] = {}
        if run.mode == RunMode.BATCH:
            jobs, chunks = batch_jobs_plan(run, missing)
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
            transaction.on_commit(lambda: [enqueue.enqueue(enqueue.BATCH_SUBMIT, job.pk) for job in jobs])
        BakeoffRun.objects.filter(pk=run.pk).update(
            dispatch_count=run.dispatch_count + 1, last_progress_at=timezone.now()
        )
        transaction.on_commit(lambda: [enqueue.enqueue(enqueue.CHUNK, rm_id, ids) for rm_id, ids in chunks])
        if queues:
            transaction.on_commit(lambda: _start_lanes(run.pk, queues))
    sent = sum(len(ids) for _, ids in chunks) + sum(len(job.case_ids) for job in jobs)
    sent += sum(len(ids) for ids in queues.values())
    log.info("bake-off %s: %s dispatched %s pairs in %s chunks, %s lanes and %s batch jobs", run.pk, reason,
             sent, len(chunks), lane_count(queues) if queues else 0, len(jobs))
    return sent


def _start_lanes(run_id: int, queues: dict[int, list[int]]) -> None:
    """Fill each model's shared work queue with its missing cases (a resume replaces what a dead
    lane left behind), then queue the lanes that pull from them."""
    store = get_quota_store()
    for rm_id, ids in queues.items():
        store.work_reset(work_queue_key(rm_id), [str(i) for i in ids])
    for _ in range(lane_count(queues)):
        enqueue.enqueue(enqueue.LANE, run_id)


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
            run_move(run, RunStatus.RUNNING, reason="report build interrupted; building it again")
        maybe_finalize(run_id=run.pk)
    return {run_id: bakeoff_resume(run_id=run_id) for run_id in stuck_runs(stale_after=stale_after)}


# --------------------------------------------------------------------------- cancel


@transaction.atomic
def bakeoff_cancel(*, run: BakeoffRun, by=None, reason: str = "") -> bool:
    """Stop a run: no more calls are started; results already stored are kept, and a report over
    the cases every model finished is built from them (bakeoff_partial_report)."""
    run = BakeoffRun.objects.select_for_update().get(pk=run.pk)
    moved = run_move(run, RunStatus.CANCELLED, by=by, reason=reason or "cancelled", finished_at=timezone.now())
    if moved:
        queue_partial_report(run.pk)
        if run.mode == RunMode.BATCH:
            transaction.on_commit(lambda: enqueue.enqueue(enqueue.BATCH_STOP, run.pk), robust=True)
    return moved


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
