"""Founder emails on the match and each milestone; partner emails on a new match and when a
bake-off finishes or fails. Each as text and HTML, after commit."""
from decimal import Decimal

import pytest
from django.core import mail

from filing.ace import ace_opportunity_record
from filing.credit_applications import credit_application_record
from filing.models import BenefitStatus
from intake.links import status_path
from matching.intake_flow import intake_submit
from matching import services
from tests.factories import PartnerFactory, PartnerMemberFactory, StaffUserFactory, UserFactory, intake_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


@pytest.fixture
def northwind(db):
    partner = PartnerFactory(name="Northwind")
    PartnerMemberFactory(partner=partner, user=UserFactory(username="alice", email="alice@northwind.example"))
    return partner


def subjects():
    return [m.subject for m in mail.outbox]


def test_submission_mails_the_founder_once_and_the_matched_partner_once(pools, northwind,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        intake, _ = intake_submit(data=intake_data(contact_email="ada@parsewell.example", company_name="Parsewell"))
    founder = [m for m in mail.outbox if m.to == ["ada@parsewell.example"]]
    partner = [m for m in mail.outbox if m.to == ["alice@northwind.example"]]
    assert len(founder) == 1 and len(partner) == 1
    assert partner[0].subject == "CloudRoute: new match — Parsewell"
    assert f"/engagements/{intake.engagement.pk}/" in partner[0].body  # the partner's workspace
    html, mimetype = partner[0].alternatives[0]
    assert mimetype == "text/html" and "Parsewell" in html


def test_founder_hears_of_a_later_match_by_staff(pools, django_capture_on_commit_callbacks):
    intake, _ = intake_submit(data=intake_data(contact_email="ada@parsewell.example"), notify=False)
    assert intake.engagement.status == "unmatched"  # no partner existed
    partner = PartnerFactory(name="Harbor AI")
    with django_capture_on_commit_callbacks(execute=True):
        services.engagement_assign(engagement=intake.engagement, partner=partner, by=StaffUserFactory(), reason="fit")
    [message] = [m for m in mail.outbox if m.to == ["ada@parsewell.example"]]
    assert message.subject == "CloudRoute: You are matched with Harbor AI"
    assert status_path(intake) in message.body


def test_founder_hears_of_each_milestone_up_to_credits_approved(pools, northwind, django_capture_on_commit_callbacks):
    intake, _ = intake_submit(data=intake_data(contact_email="ada@parsewell.example"), notify=False)
    engagement = intake.engagement
    with django_capture_on_commit_callbacks(execute=True):
        services.engagement_accept(engagement=engagement, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        opportunity = engagement.ace_opportunity
        ace_opportunity_record(opportunity=opportunity, review_status="Submitted")
    with django_capture_on_commit_callbacks(execute=True):
        ace_opportunity_record(opportunity=opportunity, review_status="Approved")
    application = engagement.credit_applications.first()
    with django_capture_on_commit_callbacks(execute=True):
        credit_application_record(application=application, status=BenefitStatus.IN_REVIEW)
        credit_application_record(application=application, status=BenefitStatus.APPROVED,
                                  amount_approved=Decimal("25000"))
    founder = [m.subject for m in mail.outbox if m.to == ["ada@parsewell.example"]]
    assert founder == [
        "CloudRoute: Northwind accepted your engagement",
        "CloudRoute: Your project is registered with AWS",
        "CloudRoute: AWS approved your registration",
        f"CloudRoute: Credits approved: {application.pool.name}",
    ]
    last = mail.outbox[-1]
    assert "$25,000" in last.body and "[x] Credits approved" in last.body
    assert "$25,000" in last.alternatives[0][0]


def test_partner_hears_when_a_bakeoff_finishes_and_when_one_fails(db, django_capture_on_commit_callbacks):
    from bakeoff_jobs.models import BakeoffRun, RunStatus, RunStatusChange
    from tests.bakeoff_jobs.factories import eval_set_with_cases

    partner = PartnerFactory(name="Northwind")
    PartnerMemberFactory(partner=partner, user=UserFactory(username="alice", email="alice@northwind.example"))
    eval_set = eval_set_with_cases(1, partner=partner, name="Triage")
    finished = BakeoffRun.objects.create(eval_set=eval_set, partner=partner, status=RunStatus.FINISHED, report={})
    failed = BakeoffRun.objects.create(eval_set=eval_set, partner=partner, status=RunStatus.FAILED, error="boom")
    with django_capture_on_commit_callbacks(execute=True):
        RunStatusChange.objects.create(run=finished, from_status="finalizing", to_status="finished")
        RunStatusChange.objects.create(run=failed, from_status="running", to_status="failed")
        RunStatusChange.objects.create(run=finished, from_status="finished", to_status="finished",
                                       reason="shared with the founder")  # not news
    assert subjects() == [f"CloudRoute: bake-off #{finished.pk} finished — Triage",
                          f"CloudRoute: bake-off #{failed.pk} failed — Triage"]
    assert all(m.to == ["alice@northwind.example"] for m in mail.outbox)
    assert "boom" in mail.outbox[1].body and f"/bakeoffs/{failed.pk}/" in mail.outbox[1].body
