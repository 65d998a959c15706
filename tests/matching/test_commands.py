"""The staff commands: preview_eligibility saves nothing and survives bad lines; load_demo can be
run again and again."""
import io
import json

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from intake.models import Intake
from matching.models import Engagement, Partner, PartnerMember, PoolRule, RuleSetVersion

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


def printed_logins(output: str) -> dict[str, str]:
    rows = [line.split() for line in output.splitlines()[1:]]
    return {row[-2]: row[-1] for row in rows}


def test_load_demo_is_idempotent_and_resets_passwords(tmp_path):
    first = io.StringIO()
    call_command("load_demo", stdout=first, logins_file=tmp_path / "logins.txt")
    counts = row_counts()
    first_logins = printed_logins(first.getvalue())

    second = io.StringIO()
    call_command("load_demo", stdout=second, logins_file=tmp_path / "logins.txt")
    second_logins = printed_logins(second.getvalue())

    assert row_counts() == counts
    assert Partner.objects.count() == 8 and PartnerMember.objects.count() == 8
    assert RuleSetVersion.objects.count() == 5
    assert Engagement.objects.count() == Intake.objects.count() == 3
    assert set(first_logins) == set(second_logins) and len(second_logins) == 9
    for username, password in second_logins.items():
        assert password != first_logins[username]
        login = RequestFactory().post("/admin/login/")  # django-axes checks every login against its address
        assert authenticate(login, username=username, password=password) is not None
        assert authenticate(login, username=username, password=first_logins[username]) is None
    staff = get_user_model().objects.get(username="staff")
    assert staff.is_staff and staff.is_superuser


def test_load_demo_keeps_the_logins_in_a_file_only_the_owner_reads(tmp_path):
    path = tmp_path / "var" / "demo-logins.txt"
    path.parent.mkdir()
    path.write_text("stale")
    path.chmod(0o644)  # an older file readable by others is tightened, not kept
    printed = io.StringIO()

    call_command("load_demo", stdout=printed, logins_file=path)

    assert (path.stat().st_mode & 0o777) == 0o600
    kept = path.read_text()
    assert "stale" not in kept and "/admin/" in kept.splitlines()[0]
    assert printed_logins(printed.getvalue()) == {row.split()[-2]: row.split()[-1] for row in kept.splitlines()[1:]}
    assert str(path) in printed.getvalue().splitlines()[0]


def test_load_demo_writes_under_var_by_default(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    assert ((tmp_path / "demo-logins.txt").stat().st_mode & 0o777) == 0o600
