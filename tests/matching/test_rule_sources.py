"""Every rule, and every pool's amounts, cite the page they come from and when it was read; the seed
says only what a source says (AWS's own pages first, the conservative reading where they disagree),
and a correction of the seed is a new published version, never a rewrite of past verdicts."""
import importlib
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader

from matching.intake_flow import intake_submit
from matching.models import PoolRule, RuleSetVersion
from matching.pool_seed import AWS_CREDITS, POOLS
from tests.factories import intake_data
from tests.matching.pool_forms import pool_change_data

pytestmark = pytest.mark.django_db

SEED = {spec["slug"]: spec for spec in POOLS}


def rules_of(slug: str) -> dict[str, dict]:
    return {kind: params for kind, params, _ in SEED[slug]["rules"]}


def test_every_seeded_rule_and_pool_cites_a_page_and_a_date(pools):
    for slug, pool in pools.items():
        snapshot = pool.rule_versions.get().snapshot
        cited = [snapshot["pool"]["source"], *(rule["source"] for rule in snapshot["rules"])]
        assert all(c["url"].startswith("https://") and date.fromisoformat(c["as_of"]) for c in cited), slug
        assert pool.rules.filter(source_url="").count() == 0


def test_marketing_only_figures_are_flagged_on_the_rule(pools):
    for slug in ("bedrock-poc", "build-for-startups"):
        snapshot = pools[slug].rule_versions.get().snapshot
        assert "Marketing/partner page only (M)" in snapshot["pool"]["source"]["note"]
        assert all("(M)" in rule["source"]["note"] for rule in snapshot["rules"])


def test_the_seed_states_only_conditions_a_source_states():
    # No published description of the Bedrock POC or Build for Startups sets a stage condition.
    assert "stage_in" not in rules_of("bedrock-poc") and "stage_in" not in rules_of("build-for-startups")
    assert rules_of("bedrock-poc")["min_monthly_requests"] == {"requests": 1}  # no published minimum volume
    # Activate is for pre-Series B startups, both tiers (AWS's credits page).
    for slug in ("activate-founders", "activate-portfolio"):
        assert "series_b_plus" not in rules_of(slug)["stage_in"]["stages"]
        assert "requires_aws_account" in rules_of(slug)


def test_amounts_from_marketing_pages_are_not_seeded_and_disagreements_take_the_lower_figure():
    founders, portfolio, accelerator = SEED["activate-founders"], SEED["activate-portfolio"], SEED["genai-accelerator"]
    assert founders["amount_max_usd"] == Decimal("1000")  # not "up to $25,000 through ACE"
    assert "$25,000" in founders["source_note"] and "5,000" in founders["source_note"]
    assert portfolio["amount_max_usd"] == Decimal("100000") and "200,000" in portfolio["source_note"]
    assert accelerator["amount_min_usd"] == 0 and accelerator["typical_amount_usd"] == 0  # no $200,000 floor
    assert "$200,000" in accelerator["source_note"]


def test_a_series_b_startup_with_an_activate_provider_is_refused_portfolio(pools):
    intake, _ = intake_submit(data=intake_data(stage="series_b_plus", total_raised_usd=Decimal("80000000"),
                                               investor_is_activate_provider=True))

    verdict = intake.verdicts.get(pool=pools["activate-portfolio"])

    assert not verdict.is_eligible and verdict.estimated_amount_usd == 0
    [stage] = [r for r in verdict.reasons if r["rule"] == "stage_in"]
    assert not stage["passed"] and stage["source"]["url"] == AWS_CREDITS
    assert "Pre-Series B" in stage["source"]["note"]


def test_an_idea_stage_startup_may_have_the_bedrock_poc(pools):
    intake, _ = intake_submit(data=intake_data(stage="idea"))

    assert intake.verdicts.get(pool=pools["bedrock-poc"]).is_eligible


def test_preview_output_carries_each_rule_source_next_to_the_existing_keys(tmp_path, pools):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({
        "stage": "seed", "funding_kind": "bootstrapped", "founded_on": "2020-01-01", "country": "US",
        "website": "https://x.example", "aws_account_id": "123456789012", "use_case": "rag_search",
        "monthly_requests": 5000, "avg_input_tokens": 100, "avg_output_tokens": 50,
    }) + "\n")
    out = io.StringIO()

    call_command("preview_eligibility", str(path), stdout=out)

    [verdict] = [v for v in json.loads(out.getvalue())["verdicts"] if v["pool"] == "activate-portfolio"]
    assert {"pool", "eligible", "estimated_amount_usd", "route", "route_reason", "rule_version", "reasons"} <= set(verdict)
    assert verdict["source"]["url"] == SEED["activate-portfolio"]["source_url"]
    for reason in verdict["reasons"]:
        assert {"rule", "passed", "text"} <= set(reason)
        assert reason["source"]["url"].startswith("https://") and reason["source"]["as_of"] == "2026-12-01"


def test_the_admin_shows_each_rule_source_to_staff(admin_client, pools):
    pool = pools["activate-portfolio"]

    change = admin_client.get(f"/admin/matching/creditpool/{pool.id}/change/").content.decode()
    version = admin_client.get(
        f"/admin/matching/rulesetversion/{pool.rule_versions.get().id}/change/").content.decode()

    assert AWS_CREDITS in change and "2026-12-01" in change
    assert "Rules and their sources" in version and f'href="{AWS_CREDITS}"' in version
    assert "Pre-Series B" in version


def test_the_admin_refuses_a_rule_without_a_source(admin_client, pools):
    pool = pools["bedrock-poc"]
    data = pool_change_data(pool, add_rules=[("requires_website", {}, "")])

    response = admin_client.post(f"/admin/matching/creditpool/{pool.id}/change/", data)

    assert response.status_code == 200 and "Cite the published page this comes from." in response.content.decode()
    assert pool.rule_versions.count() == 1 and not pool.rules.filter(kind="requires_website").exists()


def first_seed_state(pools):
    """Put the pools back the way the first seed left them (its rules, no sources), version 2 published."""
    migration = importlib.import_module("matching.migrations.0005_pools_checked_against_aws_pages")
    for slug, first in migration.FIRST_SEED.items():
        pool = pools[slug]
        for name in migration.TERMS:
            if name in first:
                setattr(pool, name, first[name])
        pool.apply_url = pool.source_url = pool.source_note = ""
        pool.source_as_of = None
        pool.save()
        pool.rules.all().delete()
        PoolRule.objects.bulk_create(PoolRule(pool=pool, kind=k, params=p, position=i)
                                     for i, (k, p) in enumerate(first["rules"], start=1))
        from matching.pool_rules import pool_rules_publish
        pool_rules_publish(pool=pool)
    return migration


def test_the_seed_correction_is_a_new_version_and_leaves_verdicts_and_staff_edits_alone(pools):
    migration = first_seed_state(pools)
    old_intake, _ = intake_submit(data=intake_data(stage="idea"))
    old_poc = old_intake.verdicts.get(pool=pools["bedrock-poc"])
    assert not old_poc.is_eligible and old_poc.rule_version.version == 2
    # Staff had edited the Build for Startups rules and Portfolio's maximum: they stay as staff left them.
    build = pools["build-for-startups"]
    build.rules.filter(kind="min_monthly_requests").update(params={"requests": 5})
    portfolio = pools["activate-portfolio"]
    portfolio.amount_max_usd = Decimal("150000")
    portfolio.save()
    old_snapshots = {v.id: v.snapshot for v in RuleSetVersion.objects.all()}

    apps = MigrationLoader(None).project_state(("matching", "0005_pools_checked_against_aws_pages")).apps
    migration.correct_pools(apps, None)

    assert {v.id: v.snapshot for v in RuleSetVersion.objects.filter(id__in=old_snapshots)} == old_snapshots
    poc = pools["bedrock-poc"]
    latest = poc.rule_versions.order_by("-version").first()
    assert latest.version == 3 and "stage_in" not in [r["kind"] for r in latest.snapshot["rules"]]
    assert all(r["source"]["url"] for r in latest.snapshot["rules"])
    old_poc.refresh_from_db()
    assert not old_poc.is_eligible and old_poc.rule_version.version == 2  # what this intake was told stays
    assert [(r.kind, r.params) for r in build.rules.order_by("position")] == [
        ("stage_in", {"stages": ["pre_seed", "seed", "series_a"]}), ("requires_aws_account", {}),
        ("min_monthly_requests", {"requests": 5})]
    accelerator = pools["genai-accelerator"]
    accelerator.refresh_from_db()
    assert accelerator.typical_amount_usd == 0 and accelerator.apply_url and accelerator.source_url
    portfolio.refresh_from_db()
    assert portfolio.amount_max_usd == 150000 and portfolio.typical_amount_usd == 25000
    assert portfolio.source_note == ""  # the seed's note speaks of $100,000: not pinned on staff's figure
    assert portfolio.rules.filter(kind="stage_in").exists()  # its rules were as seeded: corrected
    new_intake, _ = intake_submit(data=intake_data(stage="idea"))
    assert new_intake.verdicts.get(pool=poc).is_eligible
    assert new_intake.verdicts.get(pool=poc).rule_version == latest  # the running code agrees with the migration
