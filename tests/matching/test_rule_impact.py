"""Before a rule edit is published, staff see how many of the last N intakes would change verdict,
which ones, and in which direction: in the admin (a preview step on the pool's change form) and in
preview_eligibility --changed-only. The preview writes nothing."""
import io
import json
import re
from html import unescape

import pytest
from django.core.management import CommandError, call_command

from matching import eligibility, pool_rules
from matching.models import PoolRule, RuleSetVersion
from tests.factories import IntakeFactory
from tests.matching.pool_forms import pool_change_data

pytestmark = pytest.mark.django_db

SOURCE = "https://aws.amazon.com/startups/credits"


@pytest.fixture
def intakes(pools):
    """Oldest first: an idea-stage startup, two seed ones, and a pre-seed one submitted last."""
    return [IntakeFactory(company_name=name, stage=stage) for name, stage in
            [("Idea Labs", "idea"), ("Seedling", "seed"), ("Sprout", "seed"), ("Preseed Co", "pre_seed")]]


def poc_with_stage_rule(pool, stages):
    rules = [*pool.rules.all(), PoolRule(kind="stage_in", params={"stages": stages}, position=99,
                                         source_url=SOURCE, source_as_of="2026-12-01")]
    return eligibility.build_snapshot(pool, rules)


def test_impact_names_the_intakes_that_change_and_the_direction(pools, intakes):
    poc = pools["bedrock-poc"]
    snapshot = poc_with_stage_rule(poc, ["seed", "series_a"])

    impact = pool_rules.rule_edit_impact(pool=poc, snapshot=snapshot, last=10)

    assert impact["intakes_checked"] == 4 and impact["changed"] == 2
    assert impact["counts"] == {"newly_eligible": 0, "no_longer_eligible": 2, "route_changed": 0, "estimate_changed": 0}
    assert {c["company_name"] for c in impact["changes"]} == {"Idea Labs", "Preseed Co"}
    change = next(c for c in impact["changes"] if c["company_name"] == "Idea Labs")
    assert change["before"]["eligible"] and not change["after"]["eligible"]
    assert "you are Idea" in change["after"]["failed"][0]


def test_impact_counts_only_the_last_n_intakes(pools, intakes):
    poc = pools["bedrock-poc"]

    impact = pool_rules.rule_edit_impact(pool=poc, snapshot=poc_with_stage_rule(poc, ["seed"]), last=2)

    assert impact["intakes_checked"] == 2
    assert [c["company_name"] for c in impact["changes"]] == ["Preseed Co"]  # Idea Labs is older than the last 2


def test_impact_reports_gains_route_and_estimate_changes(pools, intakes):
    portfolio = pools["activate-portfolio"]
    rules = [r for r in portfolio.rules.all() if r.kind != "requires_activate_provider"]
    portfolio.typical_amount_usd = 40000
    gains = pool_rules.rule_edit_impact(pool=portfolio, snapshot=eligibility.build_snapshot(portfolio, rules), last=10)
    IntakeFactory(company_name="No Provider", investor_is_activate_provider=False)
    portfolio.filing_route = "competitive"

    moved = pool_rules.rule_edit_impact(pool=portfolio, snapshot=eligibility.build_snapshot(portfolio, rules), last=10)

    assert gains["counts"]["estimate_changed"] == 4
    assert moved["counts"] == {"newly_eligible": 1, "no_longer_eligible": 0, "route_changed": 4, "estimate_changed": 0}


def test_the_admin_previews_an_edit_without_saving_it_then_publishes_it(admin_client, pools, intakes):
    poc = pools["bedrock-poc"]
    data = pool_change_data(poc, add_rules=[("stage_in", {"stages": ["seed", "series_a"]}, SOURCE)])
    url = f"/admin/matching/creditpool/{poc.id}/change/"
    change_page = admin_client.get(url).content.decode()
    assert 'name="_preview_impact"' in change_page

    response = admin_client.post(url, {**data, "_preview_impact": "Preview", "_impact_last": "3"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "1 would change verdict" in html and "last 3 intakes" in html
    assert "Idea Labs" not in html  # older than the last 3
    assert "Preseed Co" in html and "no_longer_eligible" in html
    assert poc.rule_versions.count() == 1 and not poc.rules.filter(kind="stage_in").exists()
    # "Publish this edit" posts the same form back: now it is saved and published.
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    hidden = {k: unescape(v) for k, v in hidden.items() if k != "csrfmiddlewaretoken"}
    assert hidden["rules-TOTAL_FORMS"] == str(data["rules-TOTAL_FORMS"])

    published = admin_client.post(url, {**hidden, "_continue": "Publish this edit"})

    assert published.status_code == 302
    latest = poc.rule_versions.order_by("-version").first()
    assert latest.version == 2 and {"stages": ["seed", "series_a"]} in [r["params"] for r in latest.snapshot["rules"]]


def test_an_invalid_edit_is_not_previewed_and_shows_its_errors(admin_client, pools, intakes):
    poc = pools["bedrock-poc"]
    data = pool_change_data(poc, add_rules=[("stage_in", {"stages": ["series_z"]}, SOURCE)])

    response = admin_client.post(f"/admin/matching/creditpool/{poc.id}/change/", {**data, "_preview_impact": "1"})

    assert response.status_code == 200 and "non-empty list drawn from" in response.content.decode()
    assert poc.rule_versions.count() == 1 and not poc.rules.filter(kind="stage_in").exists()


def run(*args) -> list[dict]:
    out = io.StringIO()
    call_command("preview_eligibility", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_changed_only_prints_the_recent_intakes_a_proposed_edit_would_change(tmp_path, pools, intakes):
    proposed = tmp_path / "poc.json"
    rules = [{"kind": r.kind, "params": r.params, "source_url": r.source_url, "source_as_of": str(r.source_as_of)}
             for r in pools["bedrock-poc"].rules.all()]
    rules.append({"kind": "stage_in", "params": {"stages": ["seed", "series_a"]}, "source_url": SOURCE,
                  "source_as_of": "2026-12-01", "source_note": "trying it"})
    proposed.write_text(json.dumps({"pool": "bedrock-poc", "rules": rules}))
    versions = RuleSetVersion.objects.count()

    lines = run("--recent", "10", "--changed-only", "--proposed", str(proposed))

    assert {line["company_name"] for line in lines} == {"Idea Labs", "Preseed Co"}
    for line in lines:
        changed = {v["pool"]: v["change"] for v in line["verdicts"] if v["change"]}
        assert changed == {"bedrock-poc": "no_longer_eligible"}
        poc = next(v for v in line["verdicts"] if v["pool"] == "bedrock-poc")
        assert poc["rule_version"] == "unpublished" and poc["published_version"] == 1
        assert poc["reasons"][-1]["source"] == {"url": SOURCE, "as_of": "2026-12-01", "note": "trying it"}
    assert RuleSetVersion.objects.count() == versions and not pools["bedrock-poc"].rules.filter(kind="stage_in").exists()
    # Without the edit nothing differs from the published rules, so nothing is printed.
    assert run("--recent", "10", "--changed-only") == []
    assert len(run("--recent", "10")) == 4


def test_changed_only_also_shows_a_live_edit_not_yet_published(tmp_path, pools, intakes):
    PoolRule.objects.create(pool=pools["build-for-startups"], kind="stage_in", params={"stages": ["idea"]},
                            position=99, source_url=SOURCE, source_as_of="2026-12-01")

    lines = run("--recent", "--changed-only")

    assert len(lines) == 3 and "Idea Labs" not in {line["company_name"] for line in lines}


@pytest.mark.parametrize(
    "proposed, message",
    [
        ({"pool": "no-such-pool"}, 'no pool with slug "no-such-pool"'),
        ({"pool": "bedrock-poc", "rules": [{"kind": "requires_website", "params": {}}]}, "rule 1: source_url"),
        ({"pool": "bedrock-poc", "rules": [{"kind": "stage_in", "params": {"stages": []}, "source_url": SOURCE,
                                             "source_as_of": "2026-12-01"}]}, "rule 1: params"),
        ({"pool": "bedrock-poc", "typical_amount_usd": "999999"}, "typical_amount_usd"),
        ({"pool": "bedrock-poc", "colour": "red"}, "unknown keys ['colour']"),
        ([1], 'needs "pool"'),
    ],
)
def test_a_bad_proposed_edit_is_refused_with_what_is_wrong(tmp_path, pools, proposed, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(proposed))

    with pytest.raises(CommandError) as error:
        run("--recent", "5", "--proposed", str(path))

    assert message in str(error.value)


def test_path_and_recent_are_exclusive(tmp_path, pools):
    with pytest.raises(CommandError):
        run("--changed-only")
    with pytest.raises(CommandError):
        run(str(tmp_path / "x.jsonl"), "--recent", "3")


def test_a_partner_cannot_preview_or_publish_pool_rules(client, pools, intakes):
    from matching.admin_scoping import admin_groups_ensure
    from tests.factories import PartnerMemberFactory

    partner_group, _ = admin_groups_ensure()
    member = PartnerMemberFactory()
    member.user.groups.add(partner_group)
    client.force_login(member.user)
    poc = pools["bedrock-poc"]
    data = pool_change_data(poc, add_rules=[("stage_in", {"stages": ["seed"]}, SOURCE)])

    response = client.post(f"/admin/matching/creditpool/{poc.id}/change/", {**data, "_preview_impact": "1"})

    assert response.status_code in (403, 404) and "would change verdict" not in response.content.decode()
    assert poc.rule_versions.count() == 1


def test_a_pool_with_no_published_version_shows_everyone_it_would_take_as_newly_eligible(pools, intakes):
    from tests.factories import CreditPoolFactory

    pool = CreditPoolFactory(slug="new-pool", name="New pool")
    snapshot = eligibility.build_snapshot(pool, [PoolRule(kind="stage_in", params={"stages": ["seed"]})])

    impact = pool_rules.rule_edit_impact(pool=pool, snapshot=snapshot, last=10)

    assert impact["published_version"] is None
    assert impact["counts"]["newly_eligible"] == 2 and impact["changed"] == 2
    assert all(c["before"] is None for c in impact["changes"])
