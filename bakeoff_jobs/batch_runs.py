"""Batch bake-offs once planned: submit each job (its input records to S3, then
CreateModelInvocationJob), poll Bedrock for its status, collect and score its output, stop a
cancelled run's jobs, and remove the run's S3 files. The LLM judge of a batch run's llm_judge
cases is called on demand (model_calls.batch_judge), through the same quotas as any call."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from . import batch as batch_wire
from . import progress, scorers
from .models import (
    BATCH_JOB_ENDED,
    BakeoffResult,
    BakeoffRun,
    BatchJob,
    BatchJobStatus,
    EvalCase,
    ResultStatus,
    RunMode,
    RunStatus,
)
from .model_calls import batch_judge
from .services import bakeoff_dispatch

log = logging.getLogger(__name__)


def control_endpoint(run: BakeoffRun) -> str:
    """The sandbox serves the control plane on its own port; real runs use the configured endpoint."""
    return run.endpoint_url if run.sandbox else settings.BEDROCK_CONTROL_ENDPOINT_URL


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
            batch_wire.control_client(control_endpoint(run)), name=job.job_name, token=job.client_request_token,
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
            score = scorers.score_output(case.scorer, output=outcome.text, expected=case.expected,
                                         options=case.scorer_options or {}, judge=judge)
        except Exception as exc:  # noqa: BLE001 - a scorer failure is the case's verdict, not the job's
            result.score_detail = f"not scored: {exc}"[:2000]
        else:
            result.passed, result.score, result.score_detail = score.passed, score.score, (score.detail or "")[:2000]
            result.judge_input_tokens = score.judge_input_tokens or 0
            result.judge_output_tokens = score.judge_output_tokens or 0
        results.append(result)
    progress.bakeoff_record_results(run_id=run.pk, results=results)
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
        endpoint = control_endpoint(job.run)
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
            if batch_wire.stop_job(batch_wire.control_client(control_endpoint(job.run)), job.job_arn):
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
