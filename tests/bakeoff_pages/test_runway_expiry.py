"""Credit runway counts expiry: each pool's credits last its validity, and a spend that never
exhausts them reads "covers the whole validity (N months)" in the report, the founder's page and
the command's text output; --json keeps runway_months and adds the expiry-aware siblings."""
from decimal import Decimal

import pytest
from django.urls import reverse

from bakeoff_jobs import services
from bakeoff_jobs.management.commands.bakeoff import render_text
from intake.links import status_path
from matching.models import PoolVerdict
from tests.bakeoff_jobs.factories import EngagementFactory, claude_haiku_45, eval_set_with_cases, llama_8b

pytestmark = pytest.mark.django_db


def _engagement(pools, alpha, *, monthly_requests: int):
    engagement = EngagementFactory(partner=alpha, estimated_credits_usd=Decimal("75000"),
                                   intake__monthly_requests=monthly_requests, intake__avg_input_tokens=500,
                                   intake__avg_output_tokens=100)
    for slug, amount in (("activate-portfolio", "50000"), ("bedrock-poc", "25000")):
        pool = pools[slug]
        PoolVerdict.objects.create(intake=engagement.intake, pool=pool, rule_version=pool.rule_versions.first(),
                                   is_eligible=True, estimated_amount_usd=Decimal(amount), route=pool.filing_route)
    return engagement


def _finished(engagement, alpha, sandbox, capture):
    eval_set = eval_set_with_cases(4, engagement=engagement, partner=alpha)
    with capture(execute=True):
        run = services.bakeoff_launch(eval_set=eval_set, models=[claude_haiku_45(), llama_8b()],
                                      endpoint_url=sandbox.url, max_tokens=64)
    run.refresh_from_db()
    assert run.status == "finished", run.error
    return run


def test_seeded_pools_carry_their_credit_validity(pools):
    assert pools["activate-portfolio"].credit_validity_months == 24
    assert pools["activate-founders"].credit_validity_months == 12
    assert all(pool.credit_validity_months for pool in pools.values())


def test_a_small_spend_covers_the_whole_validity_on_every_surface(
    client, alice, pools, alpha, eager_celery, sandbox, django_capture_on_commit_callbacks
):
    engagement = _engagement(pools, alpha, monthly_requests=1000)
    run = _finished(engagement, alpha, sandbox, django_capture_on_commit_callbacks)
    haiku = run.report["models"][0]
    # 1000 × (500 × $1.10 + 100 × $5.50) / 1M = $1.10 a month: $75,000 would last 68,181.82 months
    assert haiku["monthly_usd"]["on_demand"] == "1.100000"
    assert haiku["runway_months"]["on_demand"] == "68181.82"  # unchanged: credits / monthly cost
    assert haiku["runway_covers_validity"]["on_demand"] is True
    assert haiku["credit_validity_months"] == 24 and haiku["runway_months_counting_expiry"]["on_demand"] == "24.00"

    client.force_login(alice)
    report_page = client.get(reverse("bakeoffs:report", args=[run.pk])).content.decode()
    assert "covers the whole validity (24 months)" in report_page and "68,181.8 months" not in report_page
    run.shared_with_founder = True
    run.save(update_fields=["shared_with_founder"])
    founder_page = client.get(status_path(engagement.intake)).content.decode()
    assert "covers the whole validity (24 months)" in founder_page
    assert "covers the whole validity (24 months)" in render_text(run.report)


def test_a_large_spend_shows_the_months_the_credits_pay_for(
    client, alice, pools, alpha, eager_celery, sandbox, django_capture_on_commit_callbacks
):
    engagement = _engagement(pools, alpha, monthly_requests=10_000_000)
    run = _finished(engagement, alpha, sandbox, django_capture_on_commit_callbacks)
    haiku = run.report["models"][0]
    # $11,000 a month: the POC's $25,000 (12 months) goes first, 2.27 months; then Portfolio's 4.55
    assert haiku["monthly_usd"]["on_demand"] == "11000.000000"
    assert haiku["runway_months_counting_expiry"]["on_demand"] == "6.82"
    assert haiku["runway_covers_validity"]["on_demand"] is False
    client.force_login(alice)
    page = client.get(reverse("bakeoffs:report", args=[run.pk])).content.decode()
    assert "6.8 months" in page


@pytest.mark.parametrize("months", [0, 121])
def test_a_validity_outside_one_to_120_months_is_refused_by_name(pools, months):
    from django.core.exceptions import ValidationError

    pool = pools["bedrock-poc"]
    pool.credit_validity_months = months
    with pytest.raises(ValidationError) as caught:
        pool.full_clean()
    assert "credit_validity_months" in caught.value.message_dict
