"""Celery entry points for bake-offs: thin, take ids, safe to run twice (results are stored once).
The top of the app's one-way order: the verbs and the runner below queue these by the names in
enqueue.py and never import this module."""
from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_init, worker_shutting_down
from django.conf import settings

from . import batch_runs, progress, services
from .catalog import catalog_sync
from .converse import make_client
from .enqueue import (
    BATCH_FILES_DELETE,
    BATCH_FILES_EXPIRE,
    BATCH_POLL,
    BATCH_STOP,
    BATCH_SUBMIT,
    CHUNK,
    DISPATCH,
    LANE,
    PARTIAL_REPORT,
    RESUME,
    RESUME_STUCK,
    SYNC_CATALOG,
)
from .models import BakeoffRun
from .model_calls import client_pool_size
from .runner import install_shutdown_event, request_shutdown, run_chunk, run_lane

log = logging.getLogger(__name__)


@worker_init.connect
def warm_bedrock_client(**_kwargs) -> None:
    """Build the Converse client once when a worker starts (prefork children inherit it), so the
    first chunk of a run does not spend its first calls loading botocore's service model."""
    try:
        make_client(endpoint_url=settings.BEDROCK_ENDPOINT_URL or "", max_pool_connections=client_pool_size(1))
    except Exception:  # only a head start: the first chunk builds it again and reports what is wrong
        log.warning("could not build the Converse client at worker start", exc_info=True)


@worker_init.connect
def prepare_graceful_shutdown(**_kwargs) -> None:
    """Before the pool starts (and prefork children fork), so every child sees the stop signal."""
    install_shutdown_event()


@worker_shutting_down.connect
def hand_back_chunks_on_shutdown(sig=None, how=None, **_kwargs) -> None:
    """SIGTERM (warm shutdown): running chunks store the calls in flight and queue the rest."""
    log.info("worker stopping (%s, %s): bake-off chunks hand back their remaining cases", sig, how)
    request_shutdown()


@shared_task(name=DISPATCH, acks_late=True)
def bakeoff_dispatch_task(run_id: int) -> int:
    run = BakeoffRun.objects.filter(pk=run_id).first()
    if run is None:
        return 0
    return services.bakeoff_dispatch(run=run)


@shared_task(name=CHUNK, acks_late=True, reject_on_worker_lost=True)
def bakeoff_chunk_task(run_model_id: int, case_ids: list[int]) -> dict:
    outcome = run_chunk(run_model_id=run_model_id, case_ids=case_ids)
    return {"stored": outcome.stored, "skipped": outcome.skipped, "cancelled": outcome.cancelled,
            "handed_back": outcome.handed_back}


@shared_task(name=LANE, acks_late=True, reject_on_worker_lost=True)
def bakeoff_lane_task(run_id: int) -> dict:
    outcome = run_lane(run_id=run_id)
    return {"stored": outcome.stored, "cancelled": outcome.cancelled, "handed_back": outcome.handed_back}


@shared_task(name=PARTIAL_REPORT, acks_late=True, soft_time_limit=300, time_limit=360)
def bakeoff_partial_report_task(run_id: int) -> bool:
    """A cancelled run's report over the cases every model finished; idempotent."""
    return progress.bakeoff_partial_report(run_id=run_id)


@shared_task(name=RESUME, acks_late=True)
def bakeoff_resume_task(run_id: int) -> int:
    return services.bakeoff_resume(run_id=run_id)


@shared_task(name=RESUME_STUCK, acks_late=True)
def bakeoff_resume_stuck_task(stale_seconds: float | None = None) -> dict:
    stale_after = None if stale_seconds is None else timedelta(seconds=stale_seconds)
    return {str(k): v for k, v in services.bakeoff_resume_stuck(stale_after=stale_after).items()}


@shared_task(name=BATCH_SUBMIT, acks_late=True)
def batch_submit_task(job_id: int) -> bool:
    return batch_runs.batch_submit(job_id=job_id)


@shared_task(name=BATCH_POLL, acks_late=True)
def batch_poll_task(run_id: int | None = None) -> dict:
    """Periodic (BAKEOFF_BATCH_POLL_SECONDS): Bedrock's status of every batch job in flight."""
    return {str(k): v for k, v in batch_runs.batch_poll(run_id=run_id).items()}


@shared_task(name=BATCH_STOP, acks_late=True)
def batch_stop_task(run_id: int) -> int:
    return batch_runs.batch_stop(run_id=run_id)


@shared_task(name=BATCH_FILES_DELETE, acks_late=True)
def batch_files_delete_task(run_id: int) -> int:
    return batch_runs.batch_files_delete(run_id=run_id)


@shared_task(name=BATCH_FILES_EXPIRE, acks_late=True)
def batch_files_expire_task() -> list[int]:
    """Periodic: finished batch runs' S3 files past BAKEOFF_BATCH_RETENTION_DAYS."""
    return batch_runs.batch_files_expire()


@shared_task(name=SYNC_CATALOG, acks_late=True)
def catalog_sync_task() -> dict:
    """Periodic: follow Bedrock's lifecycle and profiles (idempotent; changes go to CatalogChange)."""
    summary = catalog_sync()
    return {"changed": sorted(summary.changed), "not_in_catalog": summary.not_in_catalog}
