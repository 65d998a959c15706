"""The founder's status page: timeline with dates, credits expected and approved, and the
bake-off summary once (and only once) the partner shares it."""
from decimal import Decimal

import pytest

from filing.ace import ace_opportunity_record
from filing.credit_applications import credit_application_record
from filing.models import BenefitStatus
from filing.selectors import engagement_milestones
from intake.links import status_path
from matching.intake_flow import intake_submit
from matching import services
from tests.factories import PartnerFactory, intake_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def engagement(pools):
    PartnerFactory(name="Northwind")
    intake, _ = intake_submit(data=intake_data(), notify=False)
    return intake.engagement


def reached(engagement):
    return [m.key for m in engagement_milestones(engagement) if m.done]


def test_timeline_follows_the_engagement_to_credits_approved(client, engagement):
    assert reached(engagement) == ["received", "matched"]
    services.engagement_accept(engagement=engagement, by=None)
    ace_opportunity_record(opportunity=engagement.ace_opportunity, review_status="Submitted")
    ace_opportunity_record(opportunity=engagement.ace_opportunity, review_status="Approved")
    application = engagement.credit_applications.first()
    credit_application_record(application=application, status=BenefitStatus.IN_REVIEW)
    credit_application_record(application=application, status=BenefitStatus.APPROVED,
                              amount_approved=Decimal("12345"))
    assert reached(engagement) == ["received", "matched", "accepted", "ace_submitted", "ace_approved",
                                   "credits_approved"]
    page = client.get(status_path(engagement.intake))
    html = page.content.decode()
    assert 'id="timeline"' in html and "Credits approved" in html
    assert "$12,345" in html  # approved so far
    assert page.context["credits"]["expected"] == engagement.estimated_credits_usd


def test_bakeoff_summary_appears_only_once_shared(client, engagement, django_capture_on_commit_callbacks):
    from bakeoff_jobs import services as bakeoff
    from bakeoff_jobs.models import BakeoffRun, RunStatus
    from tests.bakeoff_jobs.factories import eval_set_with_cases

    eval_set = eval_set_with_cases(2, engagement=engagement, partner=engagement.partner)
    report = {"sandbox": True, "models": [{"key": "m1", "name": "Claude Haiku 4.5", "pass_rate": 0.95,
                                           "cost_per_task_usd": "0.001000", "monthly_usd": {"on_demand": "120.00"},
                                           "runway_months": {"on_demand": "41.7"}}],
              "router": {"by_category": [{"category": "triage", "model": "m1"}], "single_best_model": "m1",
                         "monthly_usd": {"router": "120.00", "single_best": "120.00"},
                         "runway_months": {"router": "41.7", "single_best": "41.7"}}}
    run = BakeoffRun.objects.create(eval_set=eval_set, engagement=engagement, partner=engagement.partner,
                                    status=RunStatus.FINISHED, report=report)
    assert "Model bake-off" not in client.get(status_path(engagement.intake)).content.decode()
    bakeoff.bakeoff_share(run=run, shared=True)
    html = client.get(status_path(engagement.intake)).content.decode()
    assert "Model bake-off" in html and "Claude Haiku 4.5" in html and "Triage → Claude Haiku 4.5" in html
    assert "41.7 months" in html
