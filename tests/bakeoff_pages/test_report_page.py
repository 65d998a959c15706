"""The bake-off report page, its live progress endpoint and its exports, as the firm and as an outsider."""
import csv
import io
import json

import pytest
from django.urls import reverse

from bakeoff_jobs.models import BakeoffRun, RunStatus
from bakeoff_jobs import progress, services

pytestmark = pytest.mark.django_db


def test_report_shows_summary_chart_latency_router_and_answers(client, alice, finished_run):
    client.force_login(alice)
    page = client.get(reverse("bakeoffs:report", args=[finished_run.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    for section in ('id="summary"', 'id="cost-quality-chart"', 'id="latency-chart"', 'id="router"', 'id="cases"'):
        assert section in html
    assert "Claude Haiku 4.5" in html and "Llama 3.1 8B Instruct" in html
    assert 'class="frontier"' in html and "<title id=\"cq-title\">" in html
    assert "Lyon" in html  # the wrong answer shown beside the right one
    assert 'id="progress"' not in html  # finished: no progress bar


def test_report_says_a_sandbox_run_bills_nothing_and_shows_the_estimate_range(client, alice, finished_run):
    client.force_login(alice)
    html = client.get(reverse("bakeoffs:report", args=[finished_run.pk])).content.decode()
    assert "This sandbox run bills $0." in html
    assert "typical" in html and "at most" in html
    finished_run.sandbox = False
    finished_run.save(update_fields=["sandbox"])
    assert "bills $0" not in client.get(reverse("bakeoffs:report", args=[finished_run.pk])).content.decode()


def test_disagreement_filter_keeps_only_cases_the_models_split_on(client, alice, finished_run):
    client.force_login(alice)
    page = client.get(reverse("bakeoffs:report", args=[finished_run.pk]), {"mixed": "1"})
    assert page.context["case_total"] == 1
    assert page.context["case_rows"][0].case.line == 2


def test_progress_endpoint_counts_done_failed_and_remaining(client, alice, alpha, sandbox,
                                                             django_capture_on_commit_callbacks):
    from tests.bakeoff_jobs.factories import claude_haiku_45, eval_set_with_cases, llama_8b

    eval_set = eval_set_with_cases(3, partner=alpha)
    with django_capture_on_commit_callbacks(execute=False):  # queued, no worker yet
        run = services.bakeoff_launch(eval_set=eval_set, models=[claude_haiku_45(), llama_8b()], endpoint_url=sandbox.url)
    client.force_login(alice)
    data = client.get(reverse("bakeoffs:progress", args=[run.pk])).json()
    assert data == {"status": "queued", "status_label": "Queued", "total": 6, "done": 0, "failed": 0,
                    "remaining": 6, "percent": 0, "finished": False}
    page = client.get(reverse("bakeoffs:report", args=[run.pk])).content.decode()
    assert 'id="progress"' in page and 'http-equiv="refresh"' in page  # the no-JS fallback
    assert "Cancel the bake-off" in page


def test_exports_give_every_result_and_the_report(client, alice, finished_run):
    client.force_login(alice)
    response = client.get(reverse("bakeoffs:results_csv", args=[finished_run.pk]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 12
    assert {row["model"] for row in rows} == {"Claude Haiku 4.5", "Llama 3.1 8B Instruct"}
    report = json.loads(client.get(reverse("bakeoffs:report_json", args=[finished_run.pk])).content)
    assert report == finished_run.report


def test_the_files_own_case_ids_appear_in_the_answers_and_the_export(client, alice, finished_run):
    finished_run.eval_set.cases.filter(line=2).update(case_id="refund-02")
    client.force_login(alice)
    html = client.get(reverse("bakeoffs:report", args=[finished_run.pk])).content.decode()
    assert '<code class="case-id">refund-02</code>' in html
    response = client.get(reverse("bakeoffs:results_csv", args=[finished_run.pk]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row["case_id"] for row in rows if row["case_line"] == "2"} == {"refund-02"}
    assert {row["case_id"] for row in rows if row["case_line"] != "2"} == {""}


def test_another_firm_gets_not_found_on_every_bakeoff_url(client, charlie, finished_run):
    client.force_login(charlie)
    for name in ("report", "progress", "report_json", "results_csv"):
        assert client.get(reverse(f"bakeoffs:{name}", args=[finished_run.pk])).status_code == 404
    for name in ("cancel", "share"):
        assert client.post(reverse(f"bakeoffs:{name}", args=[finished_run.pk]), {"shared": "1"}).status_code == 404
    assert not BakeoffRun.objects.get(pk=finished_run.pk).shared_with_founder


def test_anonymous_visitors_are_sent_to_the_login(client, finished_run):
    response = client.get(reverse("bakeoffs:report", args=[finished_run.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_partner_cancels_a_running_bakeoff(client, alice, alpha, sandbox, django_capture_on_commit_callbacks):
    from tests.bakeoff_jobs.factories import claude_haiku_45, eval_set_with_cases, llama_8b

    with django_capture_on_commit_callbacks(execute=False):
        run = services.bakeoff_launch(eval_set=eval_set_with_cases(2, partner=alpha),
                                      models=[claude_haiku_45(), llama_8b()], endpoint_url=sandbox.url)
    client.force_login(alice)
    client.post(reverse("bakeoffs:cancel", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.history.last().changed_by == alice


def test_a_cancelled_runs_page_shows_the_partial_report_and_says_what_it_covers(client, alice, finished_run):
    # As if cancelled with one case not finished by both models: the partial report covers five.
    from bakeoff_jobs.models import BakeoffResult

    last = finished_run.eval_set.cases.order_by("line").last()
    BakeoffResult.objects.filter(run=finished_run, case=last, run_model__position=1).delete()
    BakeoffRun.objects.filter(pk=finished_run.pk).update(status=RunStatus.CANCELLED, report=None)
    assert progress.bakeoff_partial_report(run_id=finished_run.pk)

    client.force_login(alice)
    html = client.get(reverse("bakeoffs:report", args=[finished_run.pk])).content.decode()
    assert "cases</strong> every model finished" in html and "5 of 6 cases" in html
    assert 'id="summary"' in html and 'id="cost-quality-chart"' in html
    assert "Share summary with the founder" not in html  # only a finished run is shared


def test_sharing_needs_a_finished_run_and_is_recorded(client, alice, finished_run):
    client.force_login(alice)
    client.post(reverse("bakeoffs:share", args=[finished_run.pk]), {"shared": "1"})
    finished_run.refresh_from_db()
    assert finished_run.shared_with_founder
    assert finished_run.history.last().reason == "shared with the founder"


def test_report_names_the_id_called_and_a_legacy_model_s_end_of_life(client, alice, finished_run):
    from bakeoff_jobs import selectors
    from bakeoff_jobs.catalog_models import CatalogModel

    CatalogModel.objects.filter(model_id="anthropic.claude-haiku-4-5-20251001-v1:0").update(
        lifecycle_status="legacy", end_of_life_date="2099-06-30")
    BakeoffRun.objects.filter(pk=finished_run.pk).update(report=selectors.run_report(finished_run))
    client.force_login(alice)
    html = client.get(reverse("bakeoffs:report", args=[finished_run.pk])).content.decode()
    assert "us.anthropic.claude-haiku-4-5-20251001-v1:0" in html
    assert "legacy on Bedrock: end of life 2099-06-30" in html
