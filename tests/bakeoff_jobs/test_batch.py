"""Batch bake-offs: each model as a Bedrock batch inference job, end to end through the local
sandbox's control plane and a moto S3 server with boto3's real bedrock and s3 clients."""
import json
import time
from decimal import Decimal

import boto3
import pytest
from django.core.management import CommandError, call_command

from bakeoff_jobs import batch as batch_wire
from bakeoff_jobs import batch_runs, progress, services
from bakeoff_jobs.costs import Prices, call_cost, usd_display
from bakeoff_jobs.models import (
    BakeoffResult,
    BakeoffRun,
    BatchJob,
    BatchJobStatus,
    ResultStatus,
    RunMode,
    RunStatus,
)
from bedrock_sandbox.config import SandboxConfig, ScriptLine
from bedrock_sandbox.server import start_in_thread
from bedrock_sandbox.batch_s3 import start_local_s3

from .factories import catalog_model, claude_haiku_45, eval_set_with_cases, llama_8b

pytestmark = pytest.mark.django_db

BUCKET = "cloudroute-batch-test"


@pytest.fixture(scope="session")
def _local_s3():
    server, url = start_local_s3()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def _batch_sandbox_server(_local_s3):
    handle = start_in_thread(SandboxConfig(latency_ms=0.0, s3_endpoint_url=_local_s3, batch_min_records=1))
    yield handle
    handle.stop()


@pytest.fixture
def sandbox(_batch_sandbox_server, _local_s3, settings, celery_eager):
    """The sandbox with batch jobs on a local S3; the app's batch settings point at both."""
    _batch_sandbox_server.reset()
    settings.BEDROCK_ENDPOINT_URL = _batch_sandbox_server.url
    settings.BEDROCK_CONTROL_ENDPOINT_URL = _batch_sandbox_server.url
    settings.BAKEOFF_BATCH_S3_ENDPOINT_URL = _local_s3
    settings.BAKEOFF_BATCH_BUCKET = BUCKET
    settings.BAKEOFF_BATCH_ROLE_ARN = "arn:aws:iam::000000000000:role/cloudroute-batch-test"
    settings.BAKEOFF_BATCH_MIN_RECORDS = 3
    _batch_sandbox_server.config.script = [
        ScriptLine(prompt_contains="capital of France", answer="Paris"),
        ScriptLine(prompt_contains="refuse me", answer="", error="ValidationException"),
    ]
    yield _batch_sandbox_server
    _batch_sandbox_server.reset()


@pytest.fixture
def models():
    return [claude_haiku_45(), llama_8b()]


def s3():
    from django.conf import settings

    return boto3.client("s3", endpoint_url=settings.BAKEOFF_BATCH_S3_ENDPOINT_URL, region_name="us-east-1",
                        aws_access_key_id="sandbox", aws_secret_access_key="sandbox")


def launch(sandbox, models, capture, n=6, **kwargs) -> BakeoffRun:
    eval_set = eval_set_with_cases(n, **kwargs.pop("eval_kwargs", {}))
    eval_set.cases.update(prompt="Q: capital of France?", expected="Paris", scorer="contains")
    with capture(execute=True):
        run = services.bakeoff_launch(eval_set=eval_set, models=models, endpoint_url=sandbox.url, batch=True,
                                      max_tokens=64, **kwargs)
    run.refresh_from_db()
    return run


def poll_until(run, capture, *, done=lambda run: run.status in (RunStatus.FINISHED, RunStatus.FAILED),
               timeout=20.0) -> BakeoffRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with capture(execute=True):
            batch_runs.batch_poll(run_id=run.pk)
        run.refresh_from_db()
        if done(run):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run.pk} still {run.status}: {list(run.batch_jobs.values('status', 'message'))}")


def test_batch_run_answers_every_pair_at_half_the_on_demand_price(
        sandbox, models, django_capture_on_commit_callbacks):
    run = launch(sandbox, models, django_capture_on_commit_callbacks)
    assert run.mode == RunMode.BATCH and run.status == RunStatus.RUNNING
    jobs = list(run.batch_jobs.order_by("run_model__position"))
    assert [job.model_id for job in jobs] == [
        "us.anthropic.claude-haiku-4-5-20251001-v1:0", "meta.llama3-1-8b-instruct-v1:0"]
    assert all(job.job_arn and job.client_request_token for job in jobs)  # stored as submitted

    run = poll_until(run, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FINISHED
    assert (run.done_count, run.failed_count) == (12, 0)
    assert BakeoffResult.objects.filter(run=run, passed=True, batch_job__isnull=False).count() == 12
    report = run.report
    assert report["run"]["mode"] == "batch"
    for entry, rm in zip(report["models"], run.run_models.order_by("position")):
        rows = BakeoffResult.objects.filter(run_model=rm)
        prices = Prices(input_per_1m=rm.input_per_1m, output_per_1m=rm.output_per_1m)
        on_demand = sum((call_cost(prices, input_tokens=r.input_tokens, output_tokens=r.output_tokens)
                         for r in rows), Decimal(0))
        assert entry["cost_total_usd"] == usd_display(on_demand / 2)
        assert entry["cost_on_demand_usd"] == usd_display(on_demand)
        assert entry["latency_ms"] == {"p50": None, "p95": None}
        assert entry["batch_jobs"]["jobs"] == 1 and entry["batch_jobs"]["duration_seconds"]["max"] is not None
    assert all(job.status == BatchJobStatus.COMPLETED and job.results_read_at for job in run.batch_jobs.all())


def test_input_records_are_each_familys_native_body_and_tokens_come_from_each_record(
        sandbox, models, django_capture_on_commit_callbacks):
    run = launch(sandbox, models, django_capture_on_commit_callbacks, n=3)
    run = poll_until(run, django_capture_on_commit_callbacks)
    claude_job, llama_job = run.batch_jobs.order_by("run_model__position")
    bucket, key = batch_wire.split_s3_uri(claude_job.input_uri)
    claude_lines = [json.loads(line) for line in s3().get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()]
    assert claude_lines[0]["modelInput"]["anthropic_version"] == "bedrock-2023-05-31"
    assert claude_lines[0]["modelInput"]["messages"][0]["content"][0] == {"type": "text", "text": "Q: capital of France?"}
    bucket, key = batch_wire.split_s3_uri(llama_job.input_uri)
    llama_line = json.loads(s3().get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()[0])
    assert llama_line["modelInput"]["prompt"].startswith("<|begin_of_text|>") and "max_gen_len" in llama_line["modelInput"]
    # Each result's tokens are its own record's usage in the .out file.
    bucket, key = batch_wire.output_key(llama_job.output_uri, llama_job.job_arn, llama_job.input_uri)
    assert key.endswith(f"/{batch_wire.job_id_of(llama_job.job_arn)}/records.jsonl.out")
    out = {line["recordId"]: line["modelOutput"]
           for line in map(json.loads, s3().get_object(Bucket=bucket, Key=key)["Body"].read().splitlines())}
    for result in BakeoffResult.objects.filter(run_model=llama_job.run_model):
        record = out[batch_wire.record_id(result.case_id)]
        assert (result.input_tokens, result.output_tokens) == (
            record["prompt_token_count"], record["generation_token_count"])


def test_a_record_level_error_is_stored_on_its_case(sandbox, models, django_capture_on_commit_callbacks):
    eval_set = eval_set_with_cases(4)
    eval_set.cases.update(prompt="Q: capital of France?", expected="Paris", scorer="contains")
    bad = eval_set.cases.order_by("line").first()
    bad.prompt = "please refuse me"
    bad.save()
    with django_capture_on_commit_callbacks(execute=True):
        run = services.bakeoff_launch(eval_set=eval_set, models=models, endpoint_url=sandbox.url, batch=True)
    run = poll_until(run, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FINISHED and run.failed_count == 2
    errors = BakeoffResult.objects.filter(run=run, status=ResultStatus.ERROR)
    assert {e.case_id for e in errors} == {bad.pk}
    assert all(e.error_code == "400" and e.error_message and e.batch_job_id for e in errors)


def test_reading_an_output_twice_stores_nothing_twice(sandbox, models, django_capture_on_commit_callbacks):
    run = poll_until(launch(sandbox, models, django_capture_on_commit_callbacks, n=3),
                     django_capture_on_commit_callbacks)
    before = list(BakeoffResult.objects.filter(run=run).order_by("pk").values_list("pk", "output"))
    job = run.batch_jobs.first()
    assert batch_runs.batch_collect(job=job) == 3  # read again: the same three records …
    BatchJob.objects.filter(run=run).update(results_read_at=None)
    batch_runs.batch_poll(run_id=run.pk)  # … and a poll that runs twice
    assert list(BakeoffResult.objects.filter(run=run).order_by("pk").values_list("pk", "output")) == before


def test_a_worker_killed_between_reading_and_storing_loses_nothing(
        sandbox, models, django_capture_on_commit_callbacks, monkeypatch):
    run = launch(sandbox, models, django_capture_on_commit_callbacks, n=3)
    wait_for_sandbox_jobs(sandbox, run, {"Completed"})

    real = progress.bakeoff_record_results

    def killed(**_kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(progress, "bakeoff_record_results", killed)
    with pytest.raises(SystemExit):
        batch_runs.batch_poll(run_id=run.pk)
    assert not BakeoffResult.objects.filter(run=run).exists()
    assert run.batch_jobs.filter(results_read_at__isnull=True).count() == 2  # still to be read

    monkeypatch.setattr(progress, "bakeoff_record_results", real)
    run = poll_until(run, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FINISHED
    assert BakeoffResult.objects.filter(run=run).count() == 6


def wait_for_sandbox_jobs(sandbox, run, statuses, timeout=10.0) -> None:
    """Until the sandbox's own jobs of the run reach one of the statuses (the app not polling)."""
    arns = set(run.batch_jobs.values_list("job_arn", flat=True))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        served = [job for job in sandbox.server.batch.jobs.values() if job.arn in arns]
        if len(served) == len(arns) and all(job.status in statuses for job in served):
            return
        time.sleep(0.02)
    raise AssertionError(f"sandbox jobs of run {run.pk} never reached {statuses}")


@pytest.mark.parametrize("ended", [BatchJobStatus.FAILED, BatchJobStatus.EXPIRED])
def test_a_failed_or_expired_job_is_resumed_in_a_new_job_for_only_its_missing_pairs(
        sandbox, models, django_capture_on_commit_callbacks, ended):
    sandbox.config.batch_fail_after = {"meta.*": 2}
    sandbox.config.batch_fail_status = str(ended)
    run = launch(sandbox, models, django_capture_on_commit_callbacks, n=6)
    run = poll_until(run, django_capture_on_commit_callbacks,
                     done=lambda r: r.batch_jobs.filter(attempt=2).exists())
    first = run.batch_jobs.get(attempt=1, run_model__position=1)
    assert first.status == ended and first.results_read_at and first.message
    stored = set(BakeoffResult.objects.filter(run_model=first.run_model).values_list("case_id", flat=True))
    assert len(stored) == 2
    second = run.batch_jobs.get(attempt=2)
    assert set(second.case_ids) == set(first.case_ids) - stored  # only the missing pairs
    assert second.client_request_token != first.client_request_token

    sandbox.config.batch_fail_after = {}
    run = poll_until(run, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FINISHED and run.done_count == 12
    assert BakeoffResult.objects.filter(run=run).count() == 12


def test_pairs_too_few_for_a_job_finish_on_demand_at_the_on_demand_price(
        sandbox, models, django_capture_on_commit_callbacks):
    sandbox.config.batch_fail_after = {"meta.*": 4}  # 2 left: under the 3-record minimum
    run = launch(sandbox, models, django_capture_on_commit_callbacks, n=6)
    run = poll_until(run, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FINISHED and run.done_count == 12
    llama_rm = run.run_models.get(position=1)
    on_demand = BakeoffResult.objects.filter(run_model=llama_rm, batch_job__isnull=True)
    assert on_demand.count() == 2 and all(r.latency_ms is not None for r in on_demand)
    assert run.batch_jobs.count() == 2  # no second llama job
    entry = run.report["models"][1]
    assert Decimal(entry["cost_total_usd"]) > Decimal(entry["cost_on_demand_usd"]) / 2


def test_cancel_stops_the_jobs_and_keeps_what_they_answered(sandbox, models, django_capture_on_commit_callbacks):
    sandbox.config.batch_hold = True
    run = launch(sandbox, models, django_capture_on_commit_callbacks, n=3)
    poll_until(run, django_capture_on_commit_callbacks, timeout=10,
               done=lambda r: all(j.status == BatchJobStatus.IN_PROGRESS for j in r.batch_jobs.all()))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.bakeoff_cancel(run=run, reason="test")
    assert set(run.batch_jobs.values_list("status", flat=True)) == {BatchJobStatus.STOPPING}
    served = {job.arn: job for job in sandbox.server.batch.jobs.values()}
    assert all(served[job.job_arn].stop.is_set() for job in run.batch_jobs.all())
    run = poll_until(run, django_capture_on_commit_callbacks, timeout=10,
                     done=lambda r: not r.batch_jobs.filter(results_read_at__isnull=True).exists())
    assert run.status == RunStatus.CANCELLED
    assert set(run.batch_jobs.values_list("status", flat=True)) == {BatchJobStatus.STOPPED}
    assert not BakeoffResult.objects.filter(run=run).exists()


def test_resubmitting_a_job_creates_nothing_new(sandbox, models, django_capture_on_commit_callbacks):
    run = launch(sandbox, models, django_capture_on_commit_callbacks, n=3)
    job = run.batch_jobs.first()
    arn = job.job_arn
    BatchJob.objects.filter(pk=job.pk).update(job_arn="", status=BatchJobStatus.PENDING)  # killed before storing
    assert batch_runs.batch_submit(job_id=job.pk)
    job.refresh_from_db()
    assert job.job_arn == arn
    tokens = [j.request.get("clientRequestToken") for j in sandbox.server.batch.jobs.values()]
    assert tokens.count(job.client_request_token) == 1


def test_a_deleted_run_takes_its_s3_files_with_it(sandbox, models, django_capture_on_commit_callbacks):
    run = poll_until(launch(sandbox, models, django_capture_on_commit_callbacks, n=3),
                     django_capture_on_commit_callbacks)
    prefix = batch_wire.run_prefix(run.pk)
    assert s3().list_objects_v2(Bucket=BUCKET, Prefix=prefix)["KeyCount"] >= 4
    with django_capture_on_commit_callbacks(execute=True):
        run.delete()
    assert s3().list_objects_v2(Bucket=BUCKET, Prefix=prefix)["KeyCount"] == 0


def test_batch_is_refused_for_a_model_without_it_or_a_set_under_the_minimum(sandbox, models):
    no_batch = catalog_model(model_id="meta.llama3-2-3b-instruct-v1:0", name="Llama 3.2 3B", family="llama",
                             batch_supported=False)
    with pytest.raises(services.BakeoffError, match="no batch inference for Llama 3.2 3B"):
        services.bakeoff_launch(eval_set=eval_set_with_cases(5), models=[models[0], no_batch], batch=True)
    with pytest.raises(services.BakeoffError, match="at least 3 records"):
        services.bakeoff_launch(eval_set=eval_set_with_cases(2), models=models, batch=True)
    assert not BakeoffRun.objects.exists()


def test_batch_needs_a_bucket_and_a_role_for_real_bedrock(sandbox, models, settings):
    settings.BAKEOFF_BATCH_ROLE_ARN = ""
    with pytest.raises(services.BakeoffError, match="BAKEOFF_BATCH_ROLE_ARN"):
        services.bakeoff_launch(eval_set=eval_set_with_cases(5), models=models, batch=True)


@pytest.mark.django_db(transaction=True)
def test_command_runs_a_batch_bakeoff_and_prints_the_batch_report(sandbox, tmp_path, capsys):
    haiku, llama = claude_haiku_45(), llama_8b()
    path = tmp_path / "capitals.jsonl"
    path.write_text("\n".join(json.dumps({"prompt": f"Q{i}: capital of France?", "expected": "Paris",
                                          "scorer": "contains"}) for i in range(4)))
    call_command("bakeoff", str(path), "--models", f"{haiku.model_id},{llama.model_id}", "--batch", "--json",
                 "--poll-seconds", "0.05", "--timeout", "30")
    report = json.loads(capsys.readouterr().out)
    assert report["run"]["mode"] == "batch" and report["run"]["done"] == 8
    for m in report["models"]:  # half the on-demand price (each figure rounded to $0.000001)
        assert abs(Decimal(m["cost_total_usd"]) * 2 - Decimal(m["cost_on_demand_usd"])) <= Decimal("0.000002")


@pytest.mark.django_db(transaction=True)
def test_command_refuses_batch_before_storing_anything(sandbox, tmp_path):
    haiku, llama = claude_haiku_45(), llama_8b()
    path = tmp_path / "two.jsonl"
    path.write_text("\n".join(json.dumps({"prompt": "p", "expected": "e", "scorer": "exact"}) for _ in range(2)))
    with pytest.raises(CommandError, match="--batch: A Bedrock batch job needs at least 3 records"):
        call_command("bakeoff", str(path), "--models", f"{haiku.model_id},{llama.model_id}", "--batch")
    assert not BakeoffRun.objects.exists()


# --------------------------------------------------------------------------- botocore's own shapes


@pytest.fixture
def stubbed_bedrock(settings):
    from botocore.stub import Stubber

    settings.BAKEOFF_BATCH_ROLE_ARN = "arn:aws:iam::123456789012:role/cloudroute-batch"
    client = boto3.session.Session().client("bedrock", region_name="us-east-1", aws_access_key_id="x",
                                            aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdef012345"


def test_create_job_sends_the_derived_token_and_the_s3_locations(stubbed_bedrock):
    client, stubber = stubbed_bedrock
    token = batch_wire.client_request_token(7, 3, 1)
    stubber.add_response("create_model_invocation_job", {"jobArn": ARN}, {
        "jobName": "cloudroute-bakeoff-7-3-1", "clientRequestToken": token,
        "roleArn": "arn:aws:iam::123456789012:role/cloudroute-batch", "modelId": "meta.llama3-3-70b-instruct-v1:0",
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://bkt/p/in.jsonl", "s3InputFormat": "JSONL"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://bkt/p/out/"}},
        "timeoutDurationInHours": 24,
    })
    assert batch_wire.create_job(client, name=batch_wire.job_name(7, 3, 1), token=token,
                                 model_id="meta.llama3-3-70b-instruct-v1:0", input_uri="s3://bkt/p/in.jsonl",
                                 output_uri="s3://bkt/p/out/") == ARN
    assert token == batch_wire.client_request_token(7, 3, 1)  # derived, not random


def test_get_and_stop_job_speak_botocores_shapes(stubbed_bedrock):
    import datetime as dt

    client, stubber = stubbed_bedrock
    answer = {"jobArn": ARN, "modelId": "meta.llama3-3-70b-instruct-v1:0",
              "roleArn": "arn:aws:iam::123456789012:role/cloudroute-batch", "status": "PartiallyCompleted",
              "submitTime": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
              "endTime": dt.datetime(2026, 1, 1, 1, tzinfo=dt.timezone.utc),
              "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://bkt/p/in.jsonl"}},
              "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://bkt/p/out/"}},
              "totalRecordCount": 100, "processedRecordCount": 100, "successRecordCount": 99, "errorRecordCount": 1}
    stubber.add_response("get_model_invocation_job", answer, {"jobIdentifier": ARN})
    stubber.add_response("stop_model_invocation_job", {}, {"jobIdentifier": ARN})
    stubber.add_client_error("stop_model_invocation_job", "ValidationException", "job already completed",
                             400, expected_params={"jobIdentifier": ARN})
    stubber.add_client_error("get_model_invocation_job", "ResourceNotFoundException", "no such job", 404,
                             expected_params={"jobIdentifier": ARN})
    assert batch_wire.get_job(client, ARN)["errorRecordCount"] == 1
    assert batch_wire.stop_job(client, ARN) is True
    assert batch_wire.stop_job(client, ARN) is False  # already ended: nothing to stop
    with pytest.raises(batch_wire.BatchError, match="ResourceNotFoundException"):
        batch_wire.get_job(client, ARN)


def test_output_records_read_each_familys_native_usage_and_errors():
    lines = b"\n".join(json.dumps(line).encode() for line in [
        {"recordId": "case1", "modelInput": {}, "modelOutput": {
            "content": [{"type": "text", "text": "Paris"}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 11, "output_tokens": 2}}},
        {"recordId": "case2", "modelInput": {}, "error": {"errorCode": 400, "errorMessage": "bad request"}},
    ]) + b"\nnot json\n"
    outcomes, unreadable = batch_wire.parse_output_file(lines, "claude")
    assert [(o.case_id, o.text, o.input_tokens, o.output_tokens, o.error_code) for o in outcomes] == [
        (1, "Paris", 11, 2, ""), (2, "", 0, 0, "400")]
    assert unreadable == 1
    llama, _ = batch_wire.parse_output_file(json.dumps({"recordId": "case3", "modelOutput": {
        "generation": "Paris", "prompt_token_count": 20, "generation_token_count": 3, "stop_reason": "stop"}}).encode(),
        "llama")
    assert (llama[0].text, llama[0].input_tokens, llama[0].output_tokens) == ("Paris", 20, 3)
    assert batch_wire.parse_llama_prompt(batch_wire.llama_prompt("hi", "be brief")) == ("be brief", "hi")


@pytest.mark.django_db(transaction=True)
def test_command_says_why_a_job_cannot_be_submitted(sandbox, tmp_path, settings, capsys):
    settings.BAKEOFF_BATCH_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    haiku, llama = claude_haiku_45(), llama_8b()
    path = tmp_path / "capitals.jsonl"
    path.write_text("\n".join(json.dumps({"prompt": f"Q{i}", "expected": "Paris", "scorer": "contains"})
                              for i in range(3)))
    with pytest.raises(CommandError, match="still running"):
        call_command("bakeoff", str(path), "--models", f"{haiku.model_id},{llama.model_id}", "--batch",
                     "--poll-seconds", "0.05", "--timeout", "2")
    err = capsys.readouterr().err
    assert "batch jobs: us.anthropic.claude-haiku-4-5-20251001-v1:0 #1 Pending (could not write s3://" in err


def test_report_page_of_a_batch_run_compares_batch_and_on_demand_costs(
        sandbox, models, django_capture_on_commit_callbacks, client, staff_user):
    from django.urls import reverse

    run = poll_until(launch(sandbox, models, django_capture_on_commit_callbacks, n=3),
                     django_capture_on_commit_callbacks)
    client.force_login(staff_user)
    html = client.get(reverse("bakeoffs:report", args=[run.pk])).content.decode()
    assert 'id="batch-note"' in html
    assert "batch price" in html and "1 job," in html


def test_an_output_record_in_a_foreign_shape_is_read_without_crashing():
    lines = b"\n".join(json.dumps(line).encode() for line in [
        {"recordId": "case1", "modelOutput": {"content": "Paris", "usage": {"input_tokens": -5, "output_tokens": "9"}}},
        {"recordId": "case2", "modelOutput": {"content": [{"text": 7}], "usage": [], "stop_reason": {"x": 1}}},
        {"recordId": "case3", "modelOutput": {"generation": ["x"], "prompt_token_count": True}},
        {"recordId": "case4", "error": "boom"},
        {"recordId": "other-7", "modelOutput": {}},
    ])
    outcomes, unreadable = batch_wire.parse_output_file(lines, "claude")
    assert [(o.case_id, o.text, o.input_tokens, o.output_tokens, o.stop_reason) for o in outcomes[:3]] == [
        (1, "", 0, 0, ""), (2, "", 0, 0, ""), (3, "", 0, 0, "")]
    assert (outcomes[3].error_code, outcomes[3].error_message) == ("RecordError", "boom")
    assert unreadable == 1  # a record id that names no case of ours


def test_an_unreadable_output_store_is_read_again_on_the_next_poll(
        sandbox, models, django_capture_on_commit_callbacks, settings):
    run = launch(sandbox, models, django_capture_on_commit_callbacks, n=3)
    wait_for_sandbox_jobs(sandbox, run, {"Completed"})
    good = settings.BAKEOFF_BATCH_S3_ENDPOINT_URL
    settings.BAKEOFF_BATCH_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # S3 away for a moment
    assert set(batch_runs.batch_poll(run_id=run.pk).values()) == {"Completed"}  # no crash, every job looked at
    assert not BakeoffResult.objects.filter(run=run).exists()
    assert run.batch_jobs.filter(results_read_at__isnull=True).count() == 2
    settings.BAKEOFF_BATCH_S3_ENDPOINT_URL = good
    run = poll_until(run, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FINISHED and BakeoffResult.objects.filter(run=run).count() == 6


def test_finished_runs_files_go_after_the_retention_days_and_the_results_stay(
        sandbox, models, django_capture_on_commit_callbacks, settings):
    from datetime import timedelta

    from django.utils import timezone

    run = poll_until(launch(sandbox, models, django_capture_on_commit_callbacks, n=3),
                     django_capture_on_commit_callbacks)
    prefix = batch_wire.run_prefix(run.pk)
    assert batch_runs.batch_files_expire() == []  # 0 days: kept until the run is deleted
    settings.BAKEOFF_BATCH_RETENTION_DAYS = 7
    assert batch_runs.batch_files_expire(now=timezone.now() + timedelta(days=6)) == []
    assert s3().list_objects_v2(Bucket=BUCKET, Prefix=prefix)["KeyCount"] >= 4
    assert batch_runs.batch_files_expire(now=timezone.now() + timedelta(days=8)) == [run.pk]
    assert s3().list_objects_v2(Bucket=BUCKET, Prefix=prefix)["KeyCount"] == 0
    run.refresh_from_db()
    assert run.batch_files_removed_at and BakeoffResult.objects.filter(run=run).count() == 6
    assert batch_runs.batch_files_expire(now=timezone.now() + timedelta(days=9)) == []  # once
