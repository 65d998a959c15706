"""The call engine. Lanes (on-demand runs) take every model's cases off shared per-model work
queues; chunks (a batch run's on-demand rest) run one model over a fixed slice. Either way calls in
flight stay within the model's concurrency, each holding a quota slot shared by every worker;
results are scored as they arrive and stored in batches, once per (case, model)."""
from __future__ import annotations

import logging
import threading
import time
from contextlib import nullcontext
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings

from . import converse as bedrock
from . import quotas, scorers, selfhosted
from .costs import approx_tokens
from .models import (
    BakeoffResult,
    BakeoffRun,
    CatalogKind,
    EvalCase,
    ResultStatus,
    RunModel,
    RunModelRole,
    RunStatus,
)
from .services import bakeoff_record_results

log = logging.getLogger(__name__)

# Set when the worker is asked to stop (SIGTERM): chunks stop starting calls, store what is in
# flight and hand the rest back to the queue. Created before a prefork pool forks, so its
# children see the parent's signal; a plain Event when no worker set it up (tests, eager mode).
_shutdown: threading.Event | object = threading.Event()


def install_shutdown_event() -> None:
    """Called in the worker's main process before the pool starts (see tasks.py)."""
    global _shutdown
    import multiprocessing  # noqa: PLC0415

    _shutdown = multiprocessing.get_context("fork").Event()


def request_shutdown() -> None:
    _shutdown.set()


def shutdown_requested() -> bool:
    return _shutdown.is_set()


@dataclass
class ChunkOutcome:
    stored: int = 0
    skipped: int = 0
    cancelled: bool = False
    handed_back: int = 0  # cases sent back to the queue (worker stopping or time budget spent)
    reason: str = ""


@dataclass
class CallSettings:
    max_tokens: int
    temperature: float
    cache_system_prompt: bool


@dataclass
class _Call:
    """Everything one thread needs: no ORM access happens off the chunk's main thread."""

    run_model: RunModel
    call: CallSettings
    client: object
    store: object
    stop: threading.Event
    judge: scorers.Judge | None = None
    sandbox_seen: list = field(default_factory=list)
    # Per run-model id, calls of this chunk or lane in flight at once (its share of the model's
    # concurrency): there are more threads than that, so while one backs off after a throttle
    # another takes the free slot, and threads without a turn block here instead of polling the
    # shared store. A model not in it (the judge) waits on the shared store alone.
    turns: dict = field(default_factory=dict)
    # Per run-model id, the self-hosted endpoint it calls (read before any call, on the lane's thread).
    targets: dict = field(default_factory=dict)
    # Run-model ids whose endpoint gave no answer through every retry: their other calls in this
    # chunk or lane are not made (the pairs stay missing for a resume) instead of each waiting out
    # its own retries.
    unreachable: set = field(default_factory=set)


def client_pool_size(concurrency: int) -> int:
    """HTTP connections per Converse client; one size for every model so workers share one client."""
    return max(64, concurrency * 2)


def quota_key(invoked_id: str) -> str:
    return f"bedrock:{invoked_id}"


def approx_request_tokens(prompt: str, system_prompt: str, max_tokens: int) -> int:
    """Tokens a call may use against the tokens-per-minute quota: its prompt and every reply token."""
    return approx_tokens(system_prompt + prompt) + 1 + max_tokens


def call_with_retries(ctx: _Call, run_model: RunModel, *, prompt: str, system_prompt: str,
                      max_tokens: int, temperature: float, cache_system_prompt: bool):
    """One Converse call holding a shared quota slot; throttling and transient errors are retried
    with backoff (outside the slot), permanent errors raise at once. Returns (reply, attempts);
    None for the reply when the run was stopped while waiting."""
    attempts = 0  # calls made to the model
    slot_waits = 0  # times every slot stayed busy for the whole timeout
    max_attempts = settings.BAKEOFF_MAX_ATTEMPTS
    tokens = approx_request_tokens(prompt, system_prompt, max_tokens)
    while True:
        if ctx.stop.is_set():
            return None, attempts
        turn = ctx.turns.get(run_model.pk) or nullcontext()
        started = time.monotonic()
        try:
            with turn, quotas.model_slot(
                ctx.store, quota_key(run_model.invoked_id), limit=run_model.max_concurrency,
                lease_seconds=settings.BAKEOFF_SLOT_LEASE_SECONDS, rpm=run_model.requests_per_minute,
                tpm=run_model.tokens_per_minute, tokens=tokens, timeout=settings.BAKEOFF_SLOT_TIMEOUT_SECONDS,
            ):
                if ctx.stop.is_set():
                    return None, attempts
                attempts += 1
                started = time.monotonic()
                reply = _invoke(ctx, run_model, prompt=prompt, system_prompt=system_prompt, max_tokens=max_tokens,
                                temperature=temperature, cache_system_prompt=cache_system_prompt)
            return reply, attempts
        except bedrock.ConverseError as exc:
            given_up = isinstance(exc, selfhosted.EndpointUnreachable) and run_model.pk in ctx.unreachable
            if not exc.retryable or attempts >= max_attempts or given_up:
                exc.attempts = attempts
                raise
            # Sleep outside the slot, so another call uses it meanwhile; wake early when stopped.
            # The backoff counts from the call's start: a throttle that came only after the call's
            # full latency has already spaced this retry out, so it does not also wait as long again.
            delay = bedrock.backoff_delay(attempts - 1, base=settings.BAKEOFF_BACKOFF_BASE_SECONDS)
            delay -= time.monotonic() - started
            if exc.retry_after is not None:  # the service said how long (HTTP 429 Retry-After)
                delay = max(delay, exc.retry_after)
            if delay > 0:
                ctx.stop.wait(delay)
        except quotas.QuotaTimeout:
            # Not an answer from the model: wait again, but not for ever (a resume picks it up).
            slot_waits += 1
            if slot_waits >= max_attempts:
                raise
        except quotas.QUOTA_STORE_ERRORS as exc:
            # The shared quota store (Redis) is unreachable, e.g. restarting: nothing the model
            # said, so never a result. Wait for it; if it stays away, leave the pair missing.
            slot_waits += 1
            if slot_waits >= max_attempts * 4:
                raise quotas.QuotaTimeout(f"quota store unavailable: {exc}") from exc
            log.warning("quota store unavailable (%s); waiting", exc)
            ctx.stop.wait(min(2.0, 0.25 * slot_waits))


def _invoke(ctx: _Call, run_model: RunModel, *, prompt: str, system_prompt: str, max_tokens: int,
            temperature: float, cache_system_prompt: bool) -> bedrock.ConverseReply:
    """One call, to Bedrock's Converse or, for a self-hosted entry, its OpenAI-compatible endpoint."""
    if getattr(run_model, "kind", CatalogKind.BEDROCK) == CatalogKind.SELF_HOSTED:
        if run_model.pk in ctx.unreachable:
            raise selfhosted.EndpointUnreachable("EndpointUnreachable", "gave no answer to an earlier call")
        target = ctx.targets.get(run_model.pk)
        if target is None:
            raise bedrock.ConverseError("EndpointNotConfigured", "The self-hosted entry has no endpoint.",
                                        retryable=False, http_status=None)
        return selfhosted.chat(target, prompt=prompt, system_prompt=system_prompt, max_tokens=max_tokens,
                               temperature=temperature, max_connections=client_pool_size(run_model.max_concurrency))
    return bedrock.converse(ctx.client, model_id=run_model.invoked_id, prompt=prompt, system_prompt=system_prompt,
                            max_tokens=max_tokens, temperature=temperature, cache_system_prompt=cache_system_prompt)


def _make_judge(ctx: _Call, judge_model: RunModel) -> scorers.Judge:
    def judge(system: str, prompt: str) -> scorers.JudgeReply:
        reply, _ = call_with_retries(
            ctx, judge_model, prompt=prompt, system_prompt=system, max_tokens=512, temperature=0.0,
            cache_system_prompt=False,
        )
        if reply is None:
            raise scorers.ScorerError("run stopped before the judge answered")
        return scorers.JudgeReply(text=reply.text, input_tokens=reply.input_tokens, output_tokens=reply.output_tokens)

    return judge


def run_case(ctx: _Call, case: EvalCase, rm: RunModel | None = None) -> BakeoffResult | None:
    """Call the model (the chunk's, unless given) on one case and score the answer. None when the
    run was stopped first."""
    rm = rm or ctx.run_model
    try:
        reply, attempts = call_with_retries(
            ctx, rm, prompt=case.prompt, system_prompt=case.system_prompt,
            max_tokens=ctx.call.max_tokens, temperature=ctx.call.temperature,
            cache_system_prompt=ctx.call.cache_system_prompt,
        )
    except selfhosted.EndpointUnreachable as exc:
        # No answer at all after every retry: not the model's answer, so no result; a resume (or the
        # stuck-run check) calls it again once the endpoint is back.
        if rm.pk not in ctx.unreachable:
            ctx.unreachable.add(rm.pk)
            log.warning("bake-off %s: the endpoint of %s gave no answer (%s); its pairs without a result are "
                        "left for a resume", rm.run_id, rm.invoked_id, exc.message)
        return None
    except bedrock.ConverseError as exc:
        return BakeoffResult(
            run_id=rm.run_id, run_model=rm, case=case, status=ResultStatus.ERROR,
            attempts=getattr(exc, "attempts", 1), error_code=exc.code[:80], error_message=exc.message[:2000],
            passed=False, score=0.0,
        )
    except quotas.QuotaTimeout:
        return None  # left missing: a resume picks it up
    except Exception as exc:  # noqa: BLE001 - anything unforeseen would fail again on every resume
        log.exception("bake-off %s: %s on case %s", rm.run_id, rm.invoked_id, case.pk)
        return BakeoffResult(
            run_id=rm.run_id, run_model=rm, case=case, status=ResultStatus.ERROR, attempts=1,
            error_code=type(exc).__name__[:80], error_message=str(exc)[:2000], passed=False, score=0.0,
        )
    if reply is None:
        return None
    if reply.sandbox:
        ctx.sandbox_seen.append(True)
    result = BakeoffResult(
        run_id=rm.run_id, run_model=rm, case=case, status=ResultStatus.OK, output=reply.text,
        stop_reason=reply.stop_reason[:40], input_tokens=reply.input_tokens, output_tokens=reply.output_tokens,
        cache_read_tokens=reply.cache_read_tokens, cache_write_tokens=reply.cache_write_tokens,
        latency_ms=int(reply.latency_ms or 0), wall_ms=int(reply.wall_ms), attempts=attempts,
    )
    try:
        score = scorers.score_output(
            case.scorer, output=reply.text, expected=case.expected, options=case.scorer_options or {},
            judge=ctx.judge,
        )
    except quotas.QuotaTimeout:
        return None  # the judge had no slot: leave the pair for a resume
    except (scorers.ScorerError, bedrock.ConverseError) as exc:
        if ctx.stop.is_set():
            return None  # cancelled while the judge was busy: not a verdict
        result.passed, result.score, result.score_detail = False, 0.0, f"not scored: {exc}"[:2000]
        return result
    result.passed, result.score, result.score_detail = score.passed, score.score, (score.detail or "")[:2000]
    result.judge_input_tokens = score.judge_input_tokens or 0
    result.judge_output_tokens = score.judge_output_tokens or 0
    return result


class _StopWatch:
    """Re-reads the run's status at most every `interval` seconds, from the chunk's own thread."""

    def __init__(self, run_id: int, stop: threading.Event, interval: float) -> None:
        self.run_id, self.stop, self.interval, self.checked = run_id, stop, interval, 0.0

    def poll(self) -> None:
        now = time.monotonic()
        if now - self.checked < self.interval:
            return
        self.checked = now
        status = BakeoffRun.objects.filter(pk=self.run_id).values_list("status", flat=True).first()
        if status != RunStatus.RUNNING:
            self.stop.set()


class _Results:
    """Results waiting to be stored: written in one batch every BAKEOFF_FLUSH_SECONDS (or 200)."""

    def __init__(self, run_id: int, ctx: _Call, outcome: ChunkOutcome) -> None:
        self.run_id, self.ctx, self.outcome = run_id, ctx, outcome
        self.pending: list[BakeoffResult] = []
        self.last_flush = time.monotonic()

    def add(self, result: BakeoffResult | None) -> None:
        if result is not None:
            self.pending.append(result)

    def flush_if_due(self) -> None:
        if time.monotonic() - self.last_flush >= settings.BAKEOFF_FLUSH_SECONDS or len(self.pending) >= 200:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            bakeoff_record_results(run_id=self.run_id, results=self.pending, sandbox=bool(self.ctx.sandbox_seen))
            self.outcome.stored += len(self.pending)
        self.pending, self.last_flush = [], time.monotonic()


def _check_stop(hand_back: str, deadline: float, stop: threading.Event, watch: _StopWatch) -> str:
    """Why the rest of the work goes back to the queue (the worker is stopping, or the task's time
    budget is spent), and then no new call starts: calls in flight finish and are stored. Also
    stops on a cancel."""
    if not hand_back and shutdown_requested():
        hand_back = "worker stopping"
    elif not hand_back and time.monotonic() > deadline:
        hand_back = "chunk time budget spent"
    if hand_back:
        stop.set()
    watch.poll()
    return hand_back


def run_chunk(*, run_model_id: int, case_ids: list[int]) -> ChunkOutcome:
    """Run one model over the given cases that still have no result. Safe to run twice."""
    rm = RunModel.objects.select_related("run").filter(pk=run_model_id).first()
    if rm is None or rm.run.status != RunStatus.RUNNING:
        return ChunkOutcome(reason="run is not running")
    run = rm.run
    have = set(BakeoffResult.objects.filter(run_model=rm, case_id__in=case_ids).values_list("case_id", flat=True))
    cases = list(EvalCase.objects.filter(pk__in=[c for c in case_ids if c not in have]).order_by("line"))
    if not cases:
        bakeoff_record_results(run_id=run.pk, results=[])
        return ChunkOutcome(skipped=len(case_ids), reason="nothing missing")

    stop = threading.Event()
    watch = _StopWatch(run.pk, stop, settings.BAKEOFF_CANCEL_POLL_SECONDS)
    ctx = _Call(
        run_model=rm,
        call=CallSettings(max_tokens=run.max_tokens, temperature=float(run.temperature),
                          cache_system_prompt=run.cache_system_prompt),
        client=bedrock.make_client(endpoint_url=run.endpoint_url or "",
                                   max_pool_connections=client_pool_size(rm.max_concurrency)),
        store=quotas.get_quota_store(),
        stop=stop,
    )
    judge_model = run.run_models.filter(role=RunModelRole.JUDGE).first()
    ctx.targets = selfhosted.targets_for([rm] + ([judge_model] if judge_model else []))
    if judge_model is not None and any(c.scorer == "llm_judge" for c in cases):
        ctx.judge = _make_judge(ctx, judge_model)

    outcome = ChunkOutcome(skipped=len(have))
    results = _Results(run.pk, ctx, outcome)

    # Twice the concurrency in threads (see _Call.turns), so backoff never leaves a slot idle.
    threads = max(1, min(2 * rm.max_concurrency, settings.BAKEOFF_MAX_THREADS_PER_CHUNK))
    ctx.turns = {rm.pk: threading.Semaphore(max(1, min(rm.max_concurrency, threads)))}
    deadline = time.monotonic() + settings.BAKEOFF_CHUNK_MAX_SECONDS
    hand_back = ""
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"bakeoff-{rm.pk}") as pool:
        futures: set[Future] = {pool.submit(run_case, ctx, case) for case in cases}
        try:
            while futures:
                done, futures = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    results.add(future.result())
                results.flush_if_due()
                hand_back = _check_stop(hand_back, deadline, stop, watch)
        except BaseException:
            stop.set()  # a time limit or crash: let the threads wind down without new calls
            raise
        finally:
            results.flush()
    if hand_back:
        outcome.handed_back = _hand_back(rm, [c.pk for c in cases], reason=hand_back)
        outcome.reason = hand_back
        return outcome
    outcome.cancelled = stop.is_set()
    return outcome


def _hand_back(rm: RunModel, case_ids: list[int], *, reason: str) -> int:
    """Queue the cases of this chunk that still have no result as a new chunk task."""
    if BakeoffRun.objects.filter(pk=rm.run_id, status=RunStatus.RUNNING).count() == 0:
        return 0
    have = set(BakeoffResult.objects.filter(run_model=rm, case_id__in=case_ids).values_list("case_id", flat=True))
    remaining = [c for c in case_ids if c not in have]
    if remaining:
        from .tasks import bakeoff_chunk_task  # noqa: PLC0415 - tasks import this module

        bakeoff_chunk_task.delay(rm.pk, remaining)
        log.info("bake-off %s: %s handed back %s cases of %s (%s)", rm.run_id, rm.invoked_id,
                 len(remaining), len(case_ids), reason)
    return len(remaining)


# --------------------------------------------------------------------------- lanes


class _Turns:
    """A semaphore whose size can change while threads hold it: a lane's share of one model's
    concurrency, which grows as other lanes finish with the model and shrinks as more join."""

    def __init__(self, limit: int) -> None:
        self._cond = threading.Condition()
        self.limit, self.held = max(1, limit), 0

    def resize(self, limit: int) -> None:
        with self._cond:
            self.limit = max(1, limit)
            self._cond.notify_all()

    def __enter__(self) -> "_Turns":
        with self._cond:
            while self.held >= self.limit:
                self._cond.wait()
            self.held += 1
        return self

    def __exit__(self, *exc) -> None:
        with self._cond:
            self.held -= 1
            self._cond.notify()


LANE_LEASE_SECONDS = 5.0  # a lane killed without clean-up stops counting in the shares after this
LANE_RENEW_SECONDS = 1.0
LANE_SHARE_SECONDS = 0.1  # how often a lane re-reads how many lanes share each model


class _LaneModel:
    """What one lane knows of one model: its share, the cases it took and has in flight."""

    def __init__(self, rm: RunModel, turns: _Turns) -> None:
        self.rm, self.turns = rm, turns
        self.taken: list[int] = []  # every case id taken off the queue by this lane
        self.outstanding = 0
        self.exhausted = False
        self.membership: str | None = None  # lease in the model's lane set while this lane serves it


def run_lane(*, run_id: int) -> ChunkOutcome:
    """Serve every candidate model of a run from the models' shared work queues until they are empty.

    Any number of lanes run at once, on any workers; each takes cases one call's worth at a time
    and holds `ceil(concurrency / lanes serving the model)` calls of each model in flight (plus as
    many waiting, for backoff), so one lane alone fills every model's quota and several share it.
    Which process starts a lane, and when, therefore no longer decides when a model's calls start."""
    run = BakeoffRun.objects.filter(pk=run_id).first()
    if run is None or run.status != RunStatus.RUNNING:
        return ChunkOutcome(reason="run is not running")
    store = quotas.get_quota_store()
    stop = threading.Event()
    watch = _StopWatch(run.pk, stop, settings.BAKEOFF_CANCEL_POLL_SECONDS)
    candidates = list(run.run_models.filter(role=RunModelRole.CANDIDATE).order_by("position", "pk"))
    total_concurrency = sum(rm.max_concurrency for rm in candidates) or 1
    ctx = _Call(
        run_model=candidates[0] if candidates else None,
        call=CallSettings(max_tokens=run.max_tokens, temperature=float(run.temperature),
                          cache_system_prompt=run.cache_system_prompt),
        client=bedrock.make_client(endpoint_url=run.endpoint_url or "",
                                   max_pool_connections=max(client_pool_size(1), total_concurrency)),
        store=store,
        stop=stop,
    )
    judge_model = run.run_models.filter(role=RunModelRole.JUDGE).first()
    ctx.targets = selfhosted.targets_for(candidates + ([judge_model] if judge_model else []))
    if judge_model is not None and run.eval_set.cases.filter(scorer="llm_judge").exists():
        ctx.judge = _make_judge(ctx, judge_model)
    lanes = {rm.pk: _LaneModel(rm, _Turns(rm.max_concurrency)) for rm in candidates}
    ctx.turns = {pk: lane.turns for pk, lane in lanes.items()}
    cases: dict[int, EvalCase] = {}

    outcome = ChunkOutcome()
    results = _Results(run.pk, ctx, outcome)

    def leave(lane: _LaneModel) -> None:
        if lane.membership is not None:
            try:
                store.release(quotas.lane_set_key(lane.rm.pk), lane.membership)
            except quotas.QUOTA_STORE_ERRORS:
                pass  # the lease expires on its own
            lane.membership = None

    last_share = last_renew = 0.0

    def refresh_shares(now: float) -> None:
        """Join the lane set of every model this lane still serves and size its turns to its share."""
        nonlocal last_share, last_renew
        renew = now - last_renew >= LANE_RENEW_SECONDS
        for lane in lanes.values():
            if lane.exhausted and lane.outstanding == 0:
                leave(lane)
                continue
            key = quotas.lane_set_key(lane.rm.pk)
            if lane.membership is None:
                lane.membership = store.try_acquire(key, limit=1_000_000, lease_seconds=LANE_LEASE_SECONDS)
            elif renew and not store.renew(key, lane.membership, lease_seconds=LANE_LEASE_SECONDS):
                lane.membership = store.try_acquire(key, limit=1_000_000, lease_seconds=LANE_LEASE_SECONDS)
            serving = max(1, store.in_use(key))
            lane.turns.resize(-(-lane.rm.max_concurrency // serving))
        last_share = now
        if renew:
            last_renew = now

    threads = max(1, min(2 * total_concurrency, settings.BAKEOFF_MAX_THREADS_PER_CHUNK))
    deadline = time.monotonic() + settings.BAKEOFF_CHUNK_MAX_SECONDS
    hand_back = ""
    futures: dict[Future, _LaneModel] = {}
    store_down_since: float | None = None
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"bakeoff-lane-{run.pk}") as pool:
        try:
            while True:
                now = time.monotonic()
                try:
                    if now - last_share >= LANE_SHARE_SECONDS:
                        refresh_shares(now)
                    if not stop.is_set():
                        _take_work(store, lanes, cases, futures, pool, ctx, room=threads - len(futures))
                    store_down_since = None
                except quotas.QUOTA_STORE_ERRORS as exc:
                    # The shared store (Redis) is away, e.g. restarting: calls in flight go on; wait
                    # for it, and if it stays away stop taking work (the stuck-run check re-dispatches).
                    store_down_since = store_down_since or now
                    if now - store_down_since > settings.BAKEOFF_SLOT_TIMEOUT_SECONDS:
                        stop.set()
                    log.warning("quota store unavailable (%s); lane waiting", exc)
                    last_share = now
                    if not futures:
                        stop.wait(0.25)
                        continue
                if not futures and (stop.is_set() or all(lane.exhausted for lane in lanes.values())):
                    break
                done, _ = wait(set(futures), timeout=0.05, return_when=FIRST_COMPLETED)
                for future in done:
                    lane = futures.pop(future)
                    lane.outstanding -= 1
                    results.add(future.result())
                results.flush_if_due()
                hand_back = _check_stop(hand_back, deadline, stop, watch)
        except BaseException:
            stop.set()
            raise
        finally:
            results.flush()
            for lane in lanes.values():
                leave(lane)
    taken = sum(len(lane.taken) for lane in lanes.values())
    if not taken:
        bakeoff_record_results(run_id=run.pk, results=[])  # a late lane: the run may be complete
        outcome.reason = "nothing left"
    if hand_back:
        try:
            outcome.handed_back = _hand_back_lane(run.pk, lanes.values(), reason=hand_back)
        except quotas.QUOTA_STORE_ERRORS:
            log.warning("bake-off %s: quota store unavailable; the stuck-run check re-dispatches", run.pk)
        outcome.reason = hand_back
        return outcome
    outcome.cancelled = stop.is_set()
    if outcome.cancelled and not BakeoffRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).exists():
        try:  # cancelled: nobody will take the rest (a resume refills the queues from the results)
            for pk in lanes:
                store.work_reset(quotas.work_queue_key(pk), [])
        except quotas.QUOTA_STORE_ERRORS:
            pass  # Redis's copy expires on its own
    return outcome


def _take_work(store, lanes: dict[int, _LaneModel], cases: dict[int, EvalCase], futures: dict,
               pool: ThreadPoolExecutor, ctx: _Call, *, room: int) -> None:
    """Keep twice each model's share submitted (half of it waits for a turn, so a call backing off
    never leaves a turn idle), taking the cases off the model's shared queue."""
    wanted: dict[int, list[int]] = {}
    for pk, lane in lanes.items():
        want = min(2 * lane.turns.limit - lane.outstanding, room)
        if lane.exhausted or want <= 0:
            continue
        ids = [int(i) for i in store.work_take(quotas.work_queue_key(pk), want)]
        if not ids:
            lane.exhausted = True
            continue
        wanted[pk] = ids
        room -= len(ids)
    missing = {i for ids in wanted.values() for i in ids if i not in cases}
    if missing:
        cases.update(EvalCase.objects.in_bulk(missing))
    for pk, ids in wanted.items():
        lane = lanes[pk]
        for case_id in ids:
            lane.taken.append(case_id)
            case = cases.get(case_id)
            if case is None:
                continue  # the eval set changed under a resumed run: nothing to call
            lane.outstanding += 1
            futures[pool.submit(run_case, ctx, case, lane.rm)] = lane


def _hand_back_lane(run_id: int, lanes, *, reason: str) -> int:
    """Put the cases this lane took but has no result for back on their queues, and queue a lane."""
    if BakeoffRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).count() == 0:
        return 0
    store = quotas.get_quota_store()
    returned = 0
    for lane in lanes:
        have = set(BakeoffResult.objects.filter(run_model=lane.rm, case_id__in=lane.taken)
                   .values_list("case_id", flat=True))
        remaining = [str(c) for c in lane.taken if c not in have]
        store.work_return(quotas.work_queue_key(lane.rm.pk), remaining)
        returned += len(remaining)
    if returned:
        from .tasks import bakeoff_lane_task  # noqa: PLC0415 - tasks import this module

        bakeoff_lane_task.delay(run_id)
        log.info("bake-off %s: lane handed back %s cases (%s)", run_id, returned, reason)
    return returned


def batch_judge(run: BakeoffRun) -> scorers.Judge | None:
    """The LLM judge for a batch run's llm_judge cases: called on demand, through the same quotas."""
    judge_model = run.run_models.filter(role=RunModelRole.JUDGE).first()
    if judge_model is None:
        return None
    ctx = _Call(
        run_model=judge_model,
        call=CallSettings(max_tokens=512, temperature=0.0, cache_system_prompt=False),
        client=bedrock.make_client(endpoint_url=run.endpoint_url or "",
                                   max_pool_connections=client_pool_size(judge_model.max_concurrency)),
        store=quotas.get_quota_store(),
        stop=threading.Event(),
        targets=selfhosted.targets_for([judge_model]),
    )
    return _make_judge(ctx, judge_model)
