"""A run's progress once launched: its status moves (with history), results stored once per
(case, model), the live counts, and the report built exactly once when every pair is in (or, for a
cancelled run, over the cases every model finished). The runner and the batch verbs store results
here; nothing here raises a user-facing error."""
from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from . import enqueue
from .models import RUN_MOVES, BakeoffResult, BakeoffRun, ResultStatus, RunStatus, RunStatusChange
from .selectors import complete_case_ids, run_report

log = logging.getLogger(__name__)


def run_move(run: BakeoffRun, to: str, *, by=None, reason: str = "", **fields) -> bool:
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


def queue_partial_report(run_id: int) -> None:
    transaction.on_commit(lambda: enqueue.enqueue(enqueue.PARTIAL_REPORT, run_id), robust=True)


def bakeoff_partial_report(*, run_id: int) -> bool:
    """A cancelled run's report, over the cases that every candidate model finished (so each
    comparison is still paired), marked partial with how many cases it covers. Rebuilt when calls
    that were in flight at the cancel are stored later; idempotent. False when there is nothing to
    report (not cancelled, or no case finished by every model)."""
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
        queue_partial_report(run_id)  # calls that were in flight at the cancel: report them too


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
    with transaction.atomic():
        run = BakeoffRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING:
            return False
        refresh_progress(run_id=run_id)
        run.refresh_from_db()
        if run.remaining_count > 0:
            return False
        run_move(run, RunStatus.FINALIZING, reason="every pair has a result", last_progress_at=timezone.now())
    try:
        report = run_report(run)
    except Exception as exc:  # the report is data the partner waits for: say why it is missing
        log.exception("bake-off %s: report failed", run_id)
        with transaction.atomic():
            run_move(run, RunStatus.FAILED, reason=f"report failed: {exc}", error=str(exc), finished_at=timezone.now())
        return False
    with transaction.atomic():
        run_move(run, RunStatus.FINISHED, reason="report stored", report=report, finished_at=timezone.now())
    return True
