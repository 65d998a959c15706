"""Editing a pool's rules publishes a new version; verdicts already given keep their own."""
import pytest

from matching import pool_rules
from matching.intake_flow import intake_submit
from matching.models import PoolRule, RuleSetVersion
from tests.factories import intake_data
from tests.matching.pool_forms import pool_change_data

pytestmark = pytest.mark.django_db


def test_changing_a_rule_leaves_old_verdicts_unchanged(pools):
    portfolio = pools["activate-portfolio"]
    old_intake, _ = intake_submit(data=intake_data())
    old = old_intake.verdicts.get(pool=portfolio)
    old_reasons = list(old.reasons)
    assert old.is_eligible and old.rule_version.version == 1

    rule = portfolio.rules.get(kind="max_company_age_years")
    rule.params = {"years": 1}
    rule.save()
    pool_rules.pool_rules_publish(pool=portfolio)
    new_intake, _ = intake_submit(data=intake_data())

    old.refresh_from_db()
    assert old.is_eligible and old.rule_version.version == 1 and old.reasons == old_reasons
    [age_rule] = [r for r in old.rule_version.snapshot["rules"] if r["kind"] == "max_company_age_years"]
    assert age_rule["params"] == {"years": 10}
    new = new_intake.verdicts.get(pool=portfolio)
    assert not new.is_eligible and new.rule_version.version == 2
    assert "founded within the last 1 years" in new.failed_reasons[0]


def test_an_unpublished_edit_is_published_before_the_next_verdict(pools):
    founders = pools["activate-founders"]
    PoolRule.objects.create(pool=founders, kind="min_total_raised_usd", params={"usd": "1"}, position=99)

    intake, _ = intake_submit(data=intake_data())

    assert intake.verdicts.get(pool=founders).rule_version.version == 2


def test_publishing_unchanged_rules_keeps_the_current_version(pools):
    for pool in pools.values():
        pool_rules.pool_rules_publish(pool=pool)

    assert RuleSetVersion.objects.count() == len(pools)


def test_changing_the_estimate_is_a_new_version_too(pools):
    poc = pools["bedrock-poc"]
    poc.typical_amount_usd = 30000
    poc.save()

    assert pool_rules.pool_rules_publish(pool=poc).version == 2


def test_admin_save_publishes_a_new_version(admin_client, pools):
    pool = pools["genai-accelerator"]
    data = pool_change_data(pool, rule_params={"stage_in": {"stages": ["seed"]}}, amount_max_usd="1000000",
                            typical_amount_usd="250000")

    response = admin_client.post(f"/admin/matching/creditpool/{pool.id}/change/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    latest = pool.rule_versions.order_by("-version").first()
    assert latest.version == 2
    assert latest.snapshot["pool"]["typical_amount_usd"] == "250000.00"
    assert [r["params"] for r in latest.snapshot["rules"] if r["kind"] == "stage_in"] == [{"stages": ["seed"]}]


def test_admin_refuses_rule_params_that_do_not_fit(pools):
    from django.core.exceptions import ValidationError

    rule = PoolRule(pool=pools["bedrock-poc"], kind="stage_in", params={"stages": ["series_z"]})
    with pytest.raises(ValidationError):
        rule.full_clean()
