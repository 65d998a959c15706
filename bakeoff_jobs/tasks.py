"""Celery entry points for bake-offs: thin, take ids, safe to run twice (results are stored once)."""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from . import services
from .models import BakeoffRun


@shared_task(name="bakeoff_jobs.dispatch", acks_late=True)
def bakeoff_dispatch_task(run_id: int) -> int:
    run = BakeoffRun.objects.filter(pk=run_id).first()
    if run is None:
        return 0
    return services.bakeoff_dispatch(run=run)


@shared_task(name="bakeoff_jobs.chunk", acks_late=True, reject_on_worker_lost=True)
def bakeoff_chunk_task(run_model_id: int, case_ids: list[int]) -> dict:
    from .runner import run_chunk

    outcome = run_chunk(run_model_id=run_model_id, case_ids=case_ids)
    return {"stored": outcome.stored, "skipped": outcome.skipped, "cancelled": outcome.cancelled}


@shared_task(name="bakeoff_jobs.resume", acks_late=True)
def bakeoff_resume_task(run_id: int) -> int:
    return services.bakeoff_resume(run_id=run_id)


@shared_task(name="bakeoff_jobs.resume_stuck", acks_late=True)
def bakeoff_resume_stuck_task(stale_seconds: float | None = None) -> dict:
    stale_after = None if stale_seconds is None else timedelta(seconds=stale_seconds)
    return {str(k): v for k, v in services.bakeoff_resume_stuck(stale_after=stale_after).items()}
