"""The staff command preview_eligibility saves nothing and survives bad lines (load_demo:
tests/portal/test_load_demo.py)."""
import io
import json

import pytest
from django.apps import apps
from django.core.management import call_command

from intake.models import Intake
from matching.models import PoolRule

pytestmark = pytest.mark.django_db

GOOD = {
    "stage": "seed", "funding_kind": "bootstrapped", "founded_on": "2020-01-01", "country": "US",
    "website": "https://x.example", "aws_account_id": "123456789012", "use_case": "rag_search",
    "monthly_requests": 5000, "avg_input_tokens": 100, "avg_output_tokens": 50,
}


def row_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for app in ("intake", "matching", "auth")
            for m in apps.get_app_config(app).get_models()}


def preview(tmp_path, lines: list[str], *args) -> list[dict]:
    path = tmp_path / "intakes.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out = io.StringIO()
    call_command("preview_eligibility", str(path), *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_preview_prints_every_pool_verdict_and_saves_nothing(tmp_path, pools):
    PoolRule.objects.create(pool=pools["bedrock-poc"], kind="min_total_raised_usd", params={"usd": "1"}, position=99)
    before = row_counts()

    [result] = preview(tmp_path, [json.dumps(GOOD)], "--today", "2026-06-15")

    assert row_counts() == before
    by_pool = {v["pool"]: v for v in result["verdicts"]}
    assert set(by_pool) == set(pools)
    assert by_pool["activate-founders"]["eligible"] is True
    assert by_pool["activate-founders"]["estimated_amount_usd"] == "1000.00"
    assert by_pool["activate-founders"]["rule_version"] == 1
    assert [r["text"] for r in by_pool["activate-portfolio"]["reasons"] if r["rule"] == "requires_activate_provider"] == [
        "AWS Activate Portfolio needs an Activate Provider affiliation: none given."
    ]
    assert by_pool["bedrock-poc"]["rule_version"] == "unpublished"
    assert by_pool["bedrock-poc"]["eligible"] is False  # the unpublished rule counts in a preview


def test_preview_reports_bad_lines_by_number_and_goes_on(tmp_path, pools):
    results = preview(tmp_path, [
        "{not json",
        json.dumps({**GOOD, "country": "XX", "aws_account_id": "12"}),
        "[1, 2]",
        "",
        json.dumps(GOOD),
    ])

    assert results[0]["line"] == 1 and results[0]["error"].startswith("not valid JSON")
    assert results[1]["line"] == 2 and set(results[1]["fields"]) == {"country", "aws_account_id"}
    assert results[2] == {"line": 3, "error": "each line must be one JSON object"}
    assert results[3]["line"] == 5 and "verdicts" in results[3]
    assert Intake.objects.count() == 0


def test_preview_reads_stdin(monkeypatch, pools):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(GOOD) + "\n"))
    out = io.StringIO()

    call_command("preview_eligibility", "-", stdout=out)

    assert json.loads(out.getvalue())["line"] == 1
