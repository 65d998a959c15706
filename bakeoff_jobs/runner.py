"""The run engine. Lanes (on-demand runs) take every model's cases off shared per-model work
queues; chunks (a batch run's on-demand rest) run one model over a fixed slice. Either way calls in
flight stay within the model's concurrency, each holding a quota slot shared by every worker
(model_calls.py makes and scores each call); results are stored in batches, once per (case, model)."""
from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings

from . import converse as bedrock
from . import enqueue, quotas, selfhosted
from .model_calls import CallContext, CallSettings, client_pool_size, make_judge, run_case
from .models import BakeoffResult, BakeoffRun, EvalCase, RunModel, RunModelRole, RunStatus
from .progress import bakeoff_record_results

log = logging.getLogger(__name__)

# Set when the worker is asked to stop (SIGTERM): chunks stop starting calls, store what is in
# flight and hand the rest back to the queue. Created before a prefork pool forks, so its
# children see the parent's signal; a plain Event when no worker set it up (tests, eager mode).
_shutdown: threading.Event | object = threading.Event()


def install_shutdown_event() -> None:
    """Called in the worker's main process before the pool starts (see tasks.py)."""
    global _shutdown
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

    def __init__(self, run_id: int, ctx: CallContext, outcome: ChunkOutcome) -> None:
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
    ctx = CallContext(
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
        ctx.judge = make_judge(ctx, judge_model)

    outcome = ChunkOutcome(skipped=len(have))
    results = _Results(run.pk, ctx, outcome)

    # Twice the concurrency in threads (see CallContext.turns), so backoff never leaves a slot idle.
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
        enqueue.enqueue(enqueue.CHUNK, rm.pk, remaining)
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
    ctx = CallContext(
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
        ctx.judge = make_judge(ctx, judge_model)
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
               pool: ThreadPoolExecutor, ctx: CallContext, *, room: int) -> None:
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
        enqueue.enqueue(enqueue.LANE, run_id)
        log.info("bake-off %s: lane handed back %s cases (%s)", run_id, returned, reason)
    return returned
