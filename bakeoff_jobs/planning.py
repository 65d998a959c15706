"""How a run's missing pairs go out: which (case, model) pairs have no result yet, the chunks and
lanes of on-demand work, and the Bedrock batch jobs a batch run plans (stored, not yet submitted).
services.bakeoff_dispatch sends what these plan; nothing here queues or calls anything."""
from __future__ import annotations

from django.conf import settings

from . import batch as batch_wire
from .models import BakeoffResult, BakeoffRun, BatchJob, RunModelRole


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



def lane_count(queues: dict[int, list[int]]) -> int:
    """Lanes to start: BAKEOFF_LANES and at least one per model with work (a lane per worker process
    spreads the calls' CPU); never more than there are pairs. Any one lane can keep every model
    busy, and a lane that starts when the queues are empty ends at once."""
    pairs = sum(len(ids) for ids in queues.values())
    return max(1, min(max(settings.BAKEOFF_LANES, len(queues)), pairs))



def batch_jobs_plan(run: BakeoffRun, missing: dict[int, list[int]]) -> tuple[list[BatchJob], list]:
    """(Called with the run locked.) New batch jobs (stored, not yet submitted) for the missing pairs of each model without a job
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
