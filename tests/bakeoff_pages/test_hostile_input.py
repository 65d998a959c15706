"""The partner's bake-off pages under hostile input: eval set files that used to cause server
errors are form errors naming the line; absurd query parameters are ignored; the results CSV
cannot carry a spreadsheet formula while its numbers stay numbers."""
import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bakeoff_jobs.models import EvalSet
from tests.bakeoff_jobs.hostile_evalsets import HOSTILE

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("filename", "content", "line"), HOSTILE)
def test_a_hostile_file_is_a_form_error_naming_its_line(client, alice, filename, content, line):
    client.force_login(alice)
    response = client.post(reverse("bakeoffs:upload"),
                           {"name": "Hostile", "file": SimpleUploadedFile(filename, content)})
    assert response.status_code == 400
    assert any(message.startswith(f"Line {line}:") for message in response.context["form"].errors["file"])
    assert not EvalSet.objects.exists()


def test_a_nul_in_the_file_name_is_a_form_error(client, alice):
    client.force_login(alice)
    content = b'{"prompt": "p", "expected": "x", "scorer": "exact"}\n'
    response = client.post(reverse("bakeoffs:upload"),
                           {"name": "Named", "file": SimpleUploadedFile("c\x00ases.jsonl", content)})
    assert response.status_code in (302, 400)  # the upload handler may drop the NUL itself
    if response.status_code == 400:
        assert "file" in response.context["form"].errors and not EvalSet.objects.exists()
    else:
        assert "\x00" not in EvalSet.objects.get().filename


@pytest.mark.parametrize("offset", ["9223372036854775808", "9" * 30, "9" * 5000, "-1", "1e9", "٣"])
def test_the_report_page_takes_any_offset(client, alice, finished_run, offset):
    client.force_login(alice)
    response = client.get(reverse("bakeoffs:report", args=[finished_run.pk]), {"cases": offset})
    assert response.status_code == 200


def _results(client, run) -> list[dict]:
    response = client.get(reverse("bakeoffs:results_csv", args=[run.pk]))
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize(("typed", "exported"), [
    ('=HYPERLINK("https://evil.example","x")', '\'=HYPERLINK("https://evil.example","x")'),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd\\|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-42", "-42"),  # a negative number stays a number
    ("-3.5", "-3.5"),
    ("refund-02", "refund-02"),
])
def test_results_csv_neutralises_formulas_in_case_ids_and_categories(client, alice, finished_run, typed, exported):
    finished_run.eval_set.cases.filter(line=2).update(case_id=typed, category=typed)
    client.force_login(alice)
    rows = [row for row in _results(client, finished_run) if row["case_line"] == "2"]
    assert rows and {(row["case_id"], row["category"]) for row in rows} == {(exported, exported)}


def test_results_csv_keeps_numbers_as_numbers(client, alice, finished_run):
    client.force_login(alice)
    rows = _results(client, finished_run)
    for row in rows:
        for column in ("case_line", "input_tokens", "output_tokens", "attempts"):
            assert row[column].lstrip("-").isdigit(), (column, row[column])
        assert row["score"] == "" or float(row["score"]) >= 0


def test_the_report_and_the_founder_page_price_a_workload_at_every_maximum(client, finished_run):
    from decimal import Decimal

    from bakeoff_jobs.models import BakeoffRun
    from bakeoff_jobs.selectors import run_report
    from intake import limits
    from intake.links import status_path
    from intake.models import Intake

    intake = finished_run.engagement.intake
    Intake.objects.filter(pk=intake.pk).update(
        monthly_requests=limits.MAX_MONTHLY_REQUESTS, avg_input_tokens=limits.MAX_AVG_INPUT_TOKENS,
        avg_output_tokens=limits.MAX_AVG_OUTPUT_TOKENS)
    report = run_report(BakeoffRun.objects.get(pk=finished_run.pk))
    BakeoffRun.objects.filter(pk=finished_run.pk).update(report=report, shared_with_founder=True)
    stored = BakeoffRun.objects.get(pk=finished_run.pk).report
    for model in stored["models"]:
        monthly = Decimal(model["monthly_usd"]["on_demand"])
        assert monthly.is_finite() and 0 < monthly < Decimal(10) ** 15
    intake.refresh_from_db()
    assert client.get(status_path(intake)).status_code == 200
