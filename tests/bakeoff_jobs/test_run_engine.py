"""A bake-off run end to end inside the test process (Celery eager), against the local sandbox."""
from datetime import timedelta
from decimal import Decimal

import pytest

from bakeoff_jobs import estimates, planning, progress, selectors, services
from bakeoff_jobs.catalog_models import CatalogModel
from bakeoff_jobs.models import BakeoffResult, BakeoffRun, RunModel, RunStatus
from bedrock_sandbox.config import ScriptLine

from .factories import EngagementFactory, claude_haiku_45, eval_set_with_cases, llama_8b

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager(celery_eager):
    return celery_eager


@pytest.fixture
def sandbox(bedrock_sandbox):
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="say Paris", answer="Paris")]
    return bedrock_sandbox


@pytest.fixture
def models():
    return [claude_haiku_45(), llama_8b()]


def launch(sandbox, eval_set, models, capture, **kwargs) -> BakeoffRun:
    with capture(execute=True):
        run = services.bakeoff_launch(eval_set=eval_set, models=models, endpoint_url=sandbox.url, **kwargs)
    run.refresh_from_db()
    return run


def test_run_stores_one_scored_result_per_pair_and_a_sandbox_report(
        eager, sandbox, models, django_capture_on_commit_callbacks):
    engagement = EngagementFactory()
    eval_set = eval_set_with_cases(6, engagement=engagement)
    run = launch(sandbox, eval_set, models, django_capture_on_commit_callbacks, max_tokens=64)
    assert run.status == RunStatus.FINISHED
    assert (run.total_pairs, run.done_count, run.failed_count, run.remaining_count) == (12, 12, 0, 0)
    results = BakeoffResult.objects.filter(run=run)
    assert results.count() == 12 and results.filter(passed=True).count() == 12
    assert all(r.output == "Paris" and r.stop_reason == "end_turn" and r.input_tokens > 0 for r in results)
    report = run.report
    assert report["sandbox"] is True
    assert [m["invoked_id"] for m in report["models"]] == [
        "us.anthropic.claude-haiku-4-5-20251001-v1:0", "meta.llama3-1-8b-instruct-v1:0"]
    assert report["run"]["engagement_id"] == engagement.pk
    assert sandbox.calls() == 12


def test_run_keeps_the_prices_it_used_when_the_catalog_changes(
        eager, sandbox, models, django_capture_on_commit_callbacks):
    run = launch(sandbox, eval_set_with_cases(2), models, django_capture_on_commit_callbacks)
    CatalogModel.objects.filter(pk=models[0].pk).update(input_per_1m=Decimal("99"))
    snapshot = RunModel.objects.get(run=run, catalog_model=models[0])
    assert snapshot.invoked_id == "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    assert snapshot.input_per_1m == Decimal("1.10")  # the us. profile's price, not the base or the new one


def test_throttled_calls_are_retried_to_success(eager, sandbox, models, django_capture_on_commit_callbacks, settings):
    sandbox.config.throttle_rate = 0.4
    run = launch(sandbox, eval_set_with_cases(8), models, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FINISHED and run.done_count == 16 and run.failed_count == 0
    assert sandbox.calls(outcome="ThrottlingException") > 0
    assert BakeoffResult.objects.filter(run=run, attempts__gt=1).exists()


def test_permanent_errors_are_recorded_on_the_case_without_retrying(
        eager, sandbox, models, django_capture_on_commit_callbacks):
    sandbox.config.set_model("meta.*", fail_with="ValidationException")
    run = launch(sandbox, eval_set_with_cases(3), models, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FINISHED and (run.done_count, run.failed_count) == (3, 3)
    failed = BakeoffResult.objects.filter(run=run, status="error")
    assert {r.error_code for r in failed} == {"ValidationException"} and {r.attempts for r in failed} == {1}
    assert sandbox.calls("meta.llama3-1-8b-instruct-v1:0") == 3
    assert run.report["models"][1]["errors"] == 3


def test_a_bake_off_needs_two_distinct_models(models):
    eval_set = eval_set_with_cases(1)
    with pytest.raises(services.BakeoffError):
        services.bakeoff_launch(eval_set=eval_set, models=[models[0]])
    with pytest.raises(services.BakeoffError):
        services.bakeoff_launch(eval_set=eval_set, models=[models[0], models[0]])


def test_estimate_prices_every_model_at_its_invoked_id(models):
    eval_set = eval_set_with_cases(10)
    estimate = estimates.bakeoff_estimate(eval_set=eval_set, models=models, max_tokens=100)
    assert estimate.cases == 10 and [m.invoked_id for m in estimate.models][0].startswith("us.")
    assert estimate.models[0].upper_bound_usd > estimate.models[0].expected_usd > 0
    assert estimate.expected_usd == sum(m.expected_usd for m in estimate.models)


def test_resume_dispatches_only_the_missing_pairs(eager, sandbox, models, django_capture_on_commit_callbacks):
    eval_set = eval_set_with_cases(4)
    with django_capture_on_commit_callbacks(execute=False):  # launched, but no worker picked it up
        run = services.bakeoff_launch(eval_set=eval_set, models=models, endpoint_url=sandbox.url)
    BakeoffRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    first_case = eval_set.cases.order_by("line").first()
    rm = run.run_models.get(catalog_model=models[0])
    BakeoffResult.objects.create(run=run, run_model=rm, case=first_case, status="ok", output="Paris", passed=True)
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.bakeoff_resume(run_id=run.pk)
    assert sent == 7
    run.refresh_from_db()
    assert run.status == RunStatus.FINISHED and BakeoffResult.objects.filter(run=run).count() == 8
    assert sandbox.calls() == 7
    with django_capture_on_commit_callbacks(execute=True):
        assert services.bakeoff_resume(run_id=run.pk) == 0  # finished: nothing to do


def test_stuck_runs_are_found_by_their_last_progress(models):
    eval_set = eval_set_with_cases(1)
    run = services.bakeoff_launch(eval_set=eval_set, models=models)
    BakeoffRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    assert services.stuck_runs(stale_after=timedelta(minutes=5)) == []
    assert services.stuck_runs(stale_after=timedelta(seconds=-1)) == [run.pk]


def test_cancelled_run_makes_no_more_calls(eager, sandbox, models, django_capture_on_commit_callbacks):
    eval_set = eval_set_with_cases(5)
    with django_capture_on_commit_callbacks(execute=False):
        run = services.bakeoff_launch(eval_set=eval_set, models=models, endpoint_url=sandbox.url)
    assert services.bakeoff_cancel(run=run, reason="changed my mind")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.bakeoff_resume(run_id=run.pk) == 0
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and sandbox.calls() == 0
    assert list(run.history.values_list("to_status", flat=True)) == ["queued", "cancelled"]


def test_a_cancelled_run_is_reported_on_the_cases_every_model_finished(eager, sandbox, models,
                                                                      django_capture_on_commit_callbacks):
    eval_set = eval_set_with_cases(4)
    with django_capture_on_commit_callbacks(execute=False):  # launched; results arrive by hand below
        run = services.bakeoff_launch(eval_set=eval_set, models=models, endpoint_url=sandbox.url)
    BakeoffRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    run.refresh_from_db()
    cases = list(eval_set.cases.order_by("line"))
    haiku, llama = (run.run_models.get(catalog_model=m) for m in models)

    def result(rm, case, **fields):
        return BakeoffResult(run=run, run_model=rm, case=case, **{"status": "ok", "output": "Paris", "passed": True,
                                                                  "latency_ms": 100, **fields})

    BakeoffResult.objects.bulk_create([
        result(haiku, cases[0]), result(llama, cases[0], passed=False, output="Lyon"),
        result(haiku, cases[1]), result(llama, cases[1], status="error", output="", passed=None,
                                         error_code="ValidationException", latency_ms=None),
        result(haiku, cases[2]),  # Llama's call for this case was still in flight
    ])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.bakeoff_cancel(run=run, reason="enough")
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.report["partial"] == {"cases_compared": 2, "cases_total": 4, "reason": "cancelled"}
    by_model = {m["name"]: m for m in run.report["models"]}
    assert by_model["Claude Haiku 4.5"]["cases"] == 2 and by_model["Claude Haiku 4.5"]["solved"] == 2
    assert (by_model["Llama 3.1 8B Instruct"]["solved"], by_model["Llama 3.1 8B Instruct"]["errors"]) == (0, 1)

    # The call in flight at the cancel is stored afterwards: the report takes the third case in.
    with django_capture_on_commit_callbacks(execute=True):
        progress.bakeoff_record_results(run_id=run.pk, results=[result(llama, cases[2])])
    run.refresh_from_db()
    assert run.report["partial"]["cases_compared"] == 3
    assert run.status == RunStatus.CANCELLED and sandbox.calls() == 0


def test_a_cancelled_run_with_no_case_finished_by_every_model_has_no_report(eager, sandbox, models,
                                                                            django_capture_on_commit_callbacks):
    eval_set = eval_set_with_cases(2)
    with django_capture_on_commit_callbacks(execute=False):
        run = services.bakeoff_launch(eval_set=eval_set, models=models, endpoint_url=sandbox.url)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.bakeoff_cancel(run=run)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.report is None


def test_finalize_builds_the_report_once(eager, sandbox, models, django_capture_on_commit_callbacks):
    run = launch(sandbox, eval_set_with_cases(2), models, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FINISHED
    assert progress.bakeoff_finalize(run_id=run.pk) is False
    assert list(run.history.values_list("to_status", flat=True)) == ["queued", "running", "finalizing", "finished"]


def test_llm_judge_grades_through_the_judge_model_and_its_tokens_are_kept_apart(
        eager, sandbox, models, django_capture_on_commit_callbacks):
    from .factories import EvalCaseFactory, EvalSetFactory, catalog_model

    judge = catalog_model(
        name="Claude Sonnet 4.5", model_id="anthropic.claude-sonnet-4-5-20250929-v1:0",
        inference_profile_id="us.anthropic.claude-sonnet-4-5-20250929-v1:0", requires_profile=True,
        family="claude", tier="mid", weights="closed", input_per_1m=Decimal("3"), output_per_1m=Decimal("15"),
    )
    sandbox.config.script = [
        ScriptLine(prompt_contains="Grade-the-capital", answer="Good.\nSCORE: 9\nVERDICT: PASS"),
        ScriptLine(prompt_contains="say Paris", answer="Paris"),
    ]
    eval_set = EvalSetFactory(case_count=2)
    for line in (1, 2):
        EvalCaseFactory(eval_set=eval_set, line=line, prompt=f"Case {line}: say Paris", expected="Paris",
                        scorer="llm_judge", scorer_options={"rubric": "Grade-the-capital: must say Paris"})
    run = launch(sandbox, eval_set, models, django_capture_on_commit_callbacks, judge=judge)
    assert run.status == RunStatus.FINISHED, run.error
    results = BakeoffResult.objects.filter(run=run)
    assert all(r.passed and r.judge_input_tokens > 0 and r.judge_output_tokens > 0 for r in results)
    assert sandbox.calls("us.anthropic.claude-sonnet-4-5-20250929-v1:0") == 4
    assert run.report["judge"]["invoked_id"] == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert run.report["judge"]["input_tokens"] == sum(r.judge_input_tokens for r in results)


def test_report_build_interrupted_by_a_dead_worker_is_built_again(
        eager, sandbox, models, django_capture_on_commit_callbacks):
    run = launch(sandbox, eval_set_with_cases(2), models, django_capture_on_commit_callbacks)
    BakeoffRun.objects.filter(pk=run.pk).update(status=RunStatus.FINALIZING, report=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.bakeoff_resume_stuck(stale_after=timedelta(seconds=-1))
    run.refresh_from_db()
    assert run.status == RunStatus.FINISHED and run.report["sandbox"] is True
    assert sandbox.calls() == 4  # no pair called again


def test_progress_is_one_query(models, django_assert_num_queries):
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(3), models=models)
    with django_assert_num_queries(1):
        progress = selectors.run_progress(run_id=run.pk)
    assert (progress.total, progress.done, progress.failed, progress.remaining) == (6, 0, 0, 6)


def test_chunks_interleave_models_so_each_starts_early(models, settings):
    settings.BAKEOFF_CHUNK_SIZE = 2
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(5), models=models)
    chunks = planning.plan_chunks(run, planning.missing_case_ids(run))
    a, b = [rm.pk for rm in run.run_models.order_by("position")]
    assert [rm for rm, _ in chunks] == [a, b, a, b, a, b]
    assert [len(ids) for _, ids in chunks] == [2, 2, 2, 2, 1, 1]


def test_llm_judge_cases_get_the_newest_sonnet_as_judge_by_default(models):
    from bakeoff_jobs.catalog import catalog_load

    from .factories import EvalCaseFactory, EvalSetFactory

    catalog_load()
    eval_set = EvalSetFactory(case_count=1)
    EvalCaseFactory(eval_set=eval_set, scorer="llm_judge", scorer_options={"rubric": "be right"})
    run = services.bakeoff_launch(eval_set=eval_set, models=models)
    judge = run.run_models.get(role="judge")
    assert judge.invoked_id == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert judge.input_per_1m == Decimal("3.30")  # the us. profile's price


def test_newer_claude_called_by_its_bare_id_is_refused_and_recorded(
        eager, sandbox, django_capture_on_commit_callbacks):
    bare = claude_haiku_45(requires_profile=False)  # a staff edit gone wrong
    run = launch(sandbox, eval_set_with_cases(2), [bare, llama_8b()], django_capture_on_commit_callbacks)
    refused = BakeoffResult.objects.filter(run=run, run_model__catalog_model=bare)
    assert {(r.status, r.error_code) for r in refused} == {("error", "ValidationException")}
    assert "inference profile" in refused.first().error_message
    assert run.report["models"][0]["invoked_id"] == "anthropic.claude-haiku-4-5-20251001-v1:0"
