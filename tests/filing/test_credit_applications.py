"""Credit applications: one per matched pool, filed through Partner Central Benefits when the pool
has a benefit id (exact requests, retry-safe ClientToken), or recorded by hand; approval accrues."""
import datetime as dt
from decimal import Decimal

import pytest

from filing.credit_applications import (
    credit_application_record,
    credit_application_submit,
    credit_application_sync,
    credit_applications_open,
)
from filing.engagement_filings import engagement_filings_prepare
from filing.errors import FilingError
from filing.models import BenefitStatus, ChangeSource, Commission

from .filing_support import (  # noqa: F401
    FilingEngagementFactory,
    FilingPoolFactory,
    UserFactory,
    benefits_stub,
    eager_celery,
    partner_central_credentials,
)

pytestmark = pytest.mark.django_db
BENEFIT_ID = "ben-abcdefghij1234"
APPLICATION_ID = "benappl-abcdefghij1234"


def _api_application(**pool):
    engagement = FilingEngagementFactory(intake__company_name="Acme AI")
    pool = FilingPoolFactory(name="Bedrock POC", partner_central_benefit_id=BENEFIT_ID, **pool)
    engagement.matched_pools.add(pool)
    [application] = credit_applications_open(engagement=engagement)
    return application


def test_one_application_per_matched_pool_at_its_maximum_and_only_once():
    engagement = FilingEngagementFactory()
    pools = [FilingPoolFactory(amount_max_usd=Decimal("25000")), FilingPoolFactory(amount_max_usd=Decimal("100000"))]
    engagement.matched_pools.set(pools)

    engagement_filings_prepare(engagement=engagement)
    engagement_filings_prepare(engagement=engagement)

    applications = engagement.credit_applications.order_by("amount_requested")
    assert [(a.pool, a.amount_requested, a.status) for a in applications] == [
        (pools[0], Decimal("25000.00"), "PENDING_SUBMISSION"),
        (pools[1], Decimal("100000.00"), "PENDING_SUBMISSION"),
    ]
    assert engagement.ace_opportunity is not None


def test_filing_creates_and_submits_the_benefit_application(
    benefits_stub, eager_celery, django_capture_on_commit_callbacks
):
    application = _api_application()
    engagement = application.engagement
    benefits_stub.add_response(
        "create_benefit_application",
        {"Id": APPLICATION_ID, "Arn": f"arn:aws:partnercentral:us-east-1::benefit-application/{APPLICATION_ID}"},
        {
            "Catalog": "Sandbox",
            "ClientToken": f"cr-benefit-{application.uuid.hex}",
            "BenefitIdentifier": BENEFIT_ID,
            "Name": "Bedrock POC — Acme AI",
            "Description": f"Bedrock POC credits for Acme AI: USD 50000.00 requested (CloudRoute engagement #{engagement.pk}).",
            "FulfillmentTypes": ["CREDITS"],
            "BenefitApplicationDetails": {
                "RequestedAmount": "50000.00", "CurrencyCode": "USD", "CustomerCompanyName": "Acme AI",
            },
        },
    )
    benefits_stub.add_response(
        "submit_benefit_application", {}, {"Catalog": "Sandbox", "Identifier": APPLICATION_ID}
    )

    with django_capture_on_commit_callbacks(execute=True):
        credit_application_submit(application=application)

    application.refresh_from_db()
    assert application.benefit_application_id == APPLICATION_ID
    assert application.benefit_application_arn.endswith(APPLICATION_ID)
    assert application.status == BenefitStatus.IN_REVIEW
    assert application.submitted_at is not None
    assert list(application.history.values_list("to_status", "source"))[-1] == ("IN_REVIEW", ChangeSource.FILING)


def test_a_conflict_is_shown_in_words_and_not_retried(benefits_stub, eager_celery):
    from filing.tasks import file_credit_application

    application = _api_application()
    benefits_stub.add_client_error(
        "create_benefit_application", service_error_code="ConflictException", service_message="already exists",
        http_status_code=409,
    )

    file_credit_application.apply(args=[application.pk])

    application.refresh_from_db()
    assert application.last_error == (
        "Partner Central reports a conflict: the record changed or is not in a state that allows this. (already exists)"
    )
    assert application.status == BenefitStatus.PENDING_SUBMISSION


def test_read_back_records_approval_and_accrues_once_the_amount_is_known(benefits_stub):
    application = _api_application()
    application.benefit_application_id = APPLICATION_ID
    application.status = BenefitStatus.IN_REVIEW
    application.save()
    approved = {"Id": APPLICATION_ID, "Status": "APPROVED", "StatusReason": "Meets the program criteria"}
    for _ in range(2):
        benefits_stub.add_response(
            "get_benefit_application", approved, {"Catalog": "Sandbox", "Identifier": APPLICATION_ID}
        )

    credit_application_sync(application_id=application.pk)
    credit_application_sync(application_id=application.pk)

    application.refresh_from_db()
    assert application.status == BenefitStatus.APPROVED
    assert application.decided_at is not None
    assert application.history.filter(to_status="APPROVED").count() == 1
    assert not Commission.objects.exists()  # the approved amount is not known yet

    credit_application_record(application=application, status=BenefitStatus.APPROVED, amount_approved=Decimal("40000"))
    assert Commission.objects.get().amount == Decimal("4000.00")


def test_by_hand_the_partner_records_each_step():
    partner_user = UserFactory()
    engagement = FilingEngagementFactory()
    [application] = credit_applications_open(engagement=engagement, pools=[FilingPoolFactory()])

    credit_application_submit(application=application, by=partner_user)
    with pytest.raises(FilingError, match="approved amount"):
        credit_application_record(application=application, status=BenefitStatus.APPROVED, by=partner_user)
    credit_application_record(
        application=application, status=BenefitStatus.APPROVED, by=partner_user,
        amount_approved=Decimal("25000"), expires_on=dt.date(2028, 1, 31),
    )

    application.refresh_from_db()
    assert (application.status, application.amount_approved, application.expires_on) == (
        "APPROVED", Decimal("25000.00"), dt.date(2028, 1, 31)
    )
    assert list(application.history.values_list("from_status", "to_status", "source")) == [
        ("", "PENDING_SUBMISSION", "filing"),
        ("PENDING_SUBMISSION", "IN_REVIEW", "manual"),
        ("IN_REVIEW", "APPROVED", "manual"),
    ]


def test_moves_by_hand_follow_the_allowed_moves():
    [application] = credit_applications_open(engagement=FilingEngagementFactory(), pools=[FilingPoolFactory()])
    with pytest.raises(FilingError, match="cannot move from pending submission to approved"):
        credit_application_record(application=application, status=BenefitStatus.APPROVED, amount_approved=Decimal(1))


def test_the_founder_sees_filing_progress_without_partner_notes(client):
    from filing.ace import ace_opportunity_record
    from intake.links import status_link_token

    engagement = FilingEngagementFactory()
    engagement.matched_pools.add(FilingPoolFactory(name="Bedrock POC"))
    opportunity = engagement_filings_prepare(engagement=engagement)
    ace_opportunity_record(opportunity=opportunity, review_status="Submitted", review_comments="internal note")
    [application] = engagement.credit_applications.all()
    credit_application_record(application=application, status=BenefitStatus.IN_REVIEW)
    credit_application_record(
        application=application, status=BenefitStatus.APPROVED, amount_approved=Decimal("25000"),
        expires_on=dt.date(2028, 1, 31),
    )

    html = client.get(f"/status/{status_link_token(engagement.intake)}/").content.decode()

    assert "Co-sell registration with AWS (ACE):" in html and "<strong>Submitted</strong>" in html
    assert "<td>Bedrock POC</td>" in html and "$25,000" in html and "2028-01-31" in html
    assert "internal note" not in html
