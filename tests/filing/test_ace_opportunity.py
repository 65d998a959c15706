"""The ACE opportunity: drafted from the intake, validated field by field, filed through Partner
Central exactly once (retry-safe ClientToken), errors kept on the record, or recorded by hand."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from filing.ace import ace_opportunity_draft, ace_opportunity_problems, ace_opportunity_record, ace_opportunity_submit
from filing.errors import AceValidationError, FilingError
from filing.models import AceReviewStatus, AceStage, AceStatusChange, ChangeSource

from .filing_support import (  # noqa: F401
    FilingEngagementFactory,
    FilingIntakeFactory,
    UserFactory,
    eager_celery,
    partner_central_credentials,
    selling_stub,
)

pytestmark = pytest.mark.django_db


def _ready_draft(**intake):
    opportunity = ace_opportunity_draft(engagement=FilingEngagementFactory(intake=FilingIntakeFactory(**intake)))
    opportunity.target_close_date = dt.date.today() + dt.timedelta(days=60)
    opportunity.save()
    return opportunity


def test_draft_is_prefilled_from_the_intake():
    intake = FilingIntakeFactory(
        company_name="Acme AI", website="https://acme.example", country="de", contact_name="Ada King Lovelace",
        monthly_requests=100_000, avg_input_tokens=2_000, avg_output_tokens=500,
    )
    opportunity = ace_opportunity_draft(engagement=FilingEngagementFactory(intake=intake))

    assert opportunity.company_name == "Acme AI"
    assert opportunity.website_url == "https://acme.example"
    assert opportunity.country_code == "DE"
    assert (opportunity.contact_first_name, opportunity.contact_last_name) == ("Ada", "King Lovelace")
    # Claude Sonnet 4.5 (named first) through its us. profile at 1.1 × list: 100k × (2000×$3.30 + 500×$16.50) / 1M
    assert opportunity.expected_monthly_spend == Decimal("1485.00")
    assert opportunity.origin == "Partner Referral"
    assert (opportunity.stage, opportunity.review_status) == ("Prospect", "Pending Submission")
    assert opportunity.catalog == "Sandbox"
    assert ace_opportunity_problems(opportunity) == []


def test_drafting_twice_keeps_one_opportunity():
    engagement = FilingEngagementFactory()
    assert ace_opportunity_draft(engagement=engagement).pk == ace_opportunity_draft(engagement=engagement).pk


def test_only_accepted_engagements_get_an_opportunity():
    with pytest.raises(FilingError, match="accepted"):
        ace_opportunity_draft(engagement=FilingEngagementFactory(status="matched"))


def test_validation_names_each_missing_or_invalid_field():
    opportunity = _ready_draft(country="US")
    opportunity.website_url = ""
    opportunity.industry = "Other"
    opportunity.customer_business_problem = "too short"
    opportunity.delivery_models = ["Carrier pigeon"]
    opportunity.expected_monthly_spend = Decimal("0")
    opportunity.contact_phone = "0170 123"

    problems = {p.field: p.message for p in ace_opportunity_problems(opportunity)}

    assert problems == {
        "website": "is required.",
        "other industry": "is required when the industry is Other.",
        "postal code": "is required for customers in the US.",
        "contact phone": "must be in international form, e.g. +14155550100.",
        "customer business problem": "must be 20 to 2000 characters.",
        "delivery models": "“Carrier pigeon” is not an allowed value.",
        "expected monthly AWS spend": "must be more than zero.",
    }


def test_an_invalid_draft_is_not_submitted(partner_central_credentials, django_capture_on_commit_callbacks):
    opportunity = _ready_draft()
    opportunity.title = ""
    opportunity.save()

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(AceValidationError) as raised:
        ace_opportunity_submit(opportunity=opportunity)

    assert [str(p) for p in raised.value.problems] == ["project title: is required."]
    assert callbacks == []


def _expect_create(stub, opportunity, response=None):
    from filing.partner_central import opportunity_payload

    stub.add_response("create_opportunity", response or {"Id": "O9000001"}, opportunity_payload(opportunity))


def _expect_submit(stub):
    stub.add_response(
        "submit_opportunity",
        {},
        {"Catalog": "Sandbox", "Identifier": "O9000001", "InvolvementType": "Co-Sell", "Visibility": "Full"},
    )


def test_submitting_creates_then_submits_and_records_history(
    selling_stub, eager_celery, django_capture_on_commit_callbacks
):
    opportunity = _ready_draft()
    _expect_create(selling_stub, opportunity)
    _expect_submit(selling_stub)

    with django_capture_on_commit_callbacks(execute=True):
        ace_opportunity_submit(opportunity=opportunity)

    opportunity.refresh_from_db()
    assert opportunity.partner_central_id == "O9000001"
    assert opportunity.review_status == AceReviewStatus.SUBMITTED
    assert opportunity.submitted_at is not None
    assert opportunity.last_error == ""
    assert list(opportunity.history.values_list("field", "from_value", "to_value", "source")) == [
        ("review_status", "Pending Submission", "Submitted", ChangeSource.FILING)
    ]


def test_a_throttled_create_is_retried_with_the_same_client_token(selling_stub, eager_celery):
    from filing.partner_central import opportunity_payload
    from filing.tasks import file_ace_opportunity

    opportunity = _ready_draft()
    params = opportunity_payload(opportunity)
    selling_stub.add_client_error(
        "create_opportunity", service_error_code="ThrottlingException", http_status_code=429,
        expected_params=params, modeled_fields={"Message": "Rate exceeded"},
    )
    _expect_create(selling_stub, opportunity)
    _expect_submit(selling_stub)

    file_ace_opportunity.apply(args=[opportunity.pk])

    opportunity.refresh_from_db()
    assert params["ClientToken"] == f"cloudroute-ace-{opportunity.uuid}"
    assert opportunity.partner_central_id == "O9000001"
    assert opportunity.review_status == AceReviewStatus.SUBMITTED
    assert opportunity.history.count() == 1


def test_a_failed_submit_after_create_never_files_twice(selling_stub, eager_celery):
    from filing.tasks import file_ace_opportunity

    opportunity = _ready_draft()
    _expect_create(selling_stub, opportunity)
    selling_stub.add_client_error(
        "submit_opportunity", service_error_code="InternalServerException", http_status_code=500,
        modeled_fields={"Message": "boom"},
    )
    _expect_submit(selling_stub)  # the retry only submits: the id was kept

    file_ace_opportunity.apply(args=[opportunity.pk])

    opportunity.refresh_from_db()
    assert (opportunity.partner_central_id, opportunity.review_status) == ("O9000001", "Submitted")


def test_a_validation_error_is_shown_in_words_not_retried_and_keeps_the_draft(selling_stub, eager_celery):
    from filing.tasks import file_ace_opportunity

    opportunity = _ready_draft()
    title = opportunity.title
    selling_stub.add_client_error(
        "create_opportunity", service_error_code="ValidationException", http_status_code=400,
        modeled_fields={
            "Message": "Invalid input",
            "Reason": "BUSINESS_VALIDATION_FAILED",
            "ErrorList": [{"FieldName": "Project.Title", "Message": "already used", "Code": "DUPLICATE_KEY_VALUE"}],
        },
    )

    file_ace_opportunity.apply(args=[opportunity.pk])

    opportunity.refresh_from_db()
    assert opportunity.last_error == (
        "Partner Central rejected the data: Project.Title: already used. Fix the fields and submit again."
    )
    assert opportunity.title == title
    assert opportunity.review_status == AceReviewStatus.PENDING_SUBMISSION
    assert opportunity.partner_central_id == ""
    assert not opportunity.history.exists()


def test_access_denied_is_shown_in_words(selling_stub, eager_celery):
    from filing.tasks import file_ace_opportunity

    opportunity = _ready_draft()
    selling_stub.add_client_error(
        "create_opportunity", service_error_code="AccessDeniedException", http_status_code=403,
        modeled_fields={"Message": "not authorized"},
    )

    file_ace_opportunity.apply(args=[opportunity.pk])

    opportunity.refresh_from_db()
    assert opportunity.last_error.startswith("Partner Central refused access")
    assert "(not authorized)" in opportunity.last_error


def test_throttling_that_never_ends_is_recorded_after_the_last_retry(selling_stub, eager_celery):
    from filing.tasks import file_ace_opportunity, MAX_RETRIES

    opportunity = _ready_draft()
    for _ in range(MAX_RETRIES + 1):
        selling_stub.add_client_error(
            "create_opportunity", service_error_code="ThrottlingException", http_status_code=429,
            modeled_fields={"Message": "Rate exceeded"},
        )

    file_ace_opportunity.apply(args=[opportunity.pk])

    opportunity.refresh_from_db()
    assert "try again shortly" in opportunity.last_error
    assert opportunity.review_status == AceReviewStatus.PENDING_SUBMISSION


def test_without_credentials_the_partner_records_the_submission_by_hand(settings):
    settings.PARTNER_CENTRAL_ACCESS_KEY_ID = ""
    partner = UserFactory()
    opportunity = _ready_draft()

    ace_opportunity_submit(opportunity=opportunity, by=partner, partner_central_id="O7654321")
    ace_opportunity_record(opportunity=opportunity, by=partner, review_status=AceReviewStatus.IN_REVIEW)
    ace_opportunity_record(opportunity=opportunity, by=partner, stage=AceStage.QUALIFIED)

    opportunity.refresh_from_db()
    assert opportunity.partner_central_id == "O7654321"
    assert list(opportunity.history.values_list("field", "to_value", "source", "changed_by")) == [
        ("review_status", "Submitted", "manual", partner.pk),
        ("review_status", "In review", "manual", partner.pk),
        ("stage", "Qualified", "manual", partner.pk),
    ]


def test_moves_by_hand_follow_the_allowed_moves():
    opportunity = _ready_draft()
    with pytest.raises(FilingError, match="cannot move from Pending Submission to Approved"):
        ace_opportunity_record(opportunity=opportunity, review_status=AceReviewStatus.APPROVED)
    with pytest.raises(FilingError, match="closed-lost reason"):
        ace_opportunity_record(opportunity=opportunity, stage=AceStage.CLOSED_LOST)

    ace_opportunity_record(opportunity=opportunity, stage=AceStage.CLOSED_LOST, closed_lost_reason="Price")

    change = AceStatusChange.objects.get(opportunity=opportunity)
    assert (change.to_value, change.comment) == ("Closed Lost", "Price")


def test_accepting_an_engagement_drafts_its_opportunity_and_credit_applications(pools):
    from matching import services
    from tests.factories import PartnerFactory, open_engagement

    PartnerFactory()
    engagement = open_engagement()
    intake = engagement.intake
    assert engagement.status == "matched"

    engagement = services.engagement_accept(engagement=engagement, by=None)

    opportunity = engagement.ace_opportunity
    assert (opportunity.company_name, opportunity.review_status) == (intake.company_name, "Pending Submission")
    # One application per partner-filed pool: the founder applies for self-serve and competitive ones.
    eligible = {v.pool_id: v.estimated_amount_usd for v in intake.verdicts.filter(is_eligible=True, route="partner_ace")}
    assert eligible
    assert {a.pool_id: a.amount_requested for a in engagement.credit_applications.all()} == eligible


def test_after_action_required_the_edited_draft_is_sent_with_update_and_read_back(
    selling_stub, eager_celery, django_capture_on_commit_callbacks
):
    from filing.partner_central import opportunity_payload

    seen = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.timezone.utc)
    opportunity = _ready_draft()
    opportunity.partner_central_id = "O9000001"
    opportunity.review_status = AceReviewStatus.ACTION_REQUIRED
    opportunity.partner_central_modified_at = seen
    opportunity.website_url = "https://acme-ai.example"  # what AWS asked for
    opportunity.save()
    expected = opportunity_payload(opportunity)
    del expected["ClientToken"], expected["Origin"]
    expected.update(Identifier="O9000001", LastModifiedDate=seen)
    selling_stub.add_response(
        "update_opportunity", {"Id": "O9000001", "LastModifiedDate": seen + dt.timedelta(minutes=5)}, expected
    )
    selling_stub.add_response(
        "get_opportunity",
        {
            "Catalog": "Sandbox", "Id": "O9000001", "LastModifiedDate": seen + dt.timedelta(minutes=6),
            "CreatedDate": seen, "RelatedEntityIdentifiers": {},
            "LifeCycle": {"Stage": "Prospect", "ReviewStatus": "In review"},
        },
        {"Catalog": "Sandbox", "Identifier": "O9000001"},
    )

    with django_capture_on_commit_callbacks(execute=True):
        ace_opportunity_submit(opportunity=opportunity)

    opportunity.refresh_from_db()
    assert opportunity.review_status == AceReviewStatus.IN_REVIEW
    assert opportunity.partner_central_modified_at == seen + dt.timedelta(minutes=6)
    assert list(opportunity.history.values_list("from_value", "to_value", "source")) == [
        ("Action Required", "In review", ChangeSource.PARTNER_CENTRAL)
    ]


def test_the_draft_takes_the_intakes_country_from_the_one_list_ace_accepts():
    from intake.countries import country_codes

    opportunity = _ready_draft(country="IN")
    assert opportunity.country_code == "IN"
    problems = {}
    for code in sorted(country_codes()):  # every country the form offers is one ACE accepts
        opportunity.country_code = code
        problems[code] = [p for p in ace_opportunity_problems(opportunity) if p.field == "country"]
    assert {code: found for code, found in problems.items() if found} == {}


@pytest.mark.parametrize("stored", ["KP", "USA", "us", ""])
def test_a_stored_code_off_the_list_is_named_by_the_readiness_check(stored):
    opportunity = _ready_draft(country="DE")
    opportunity.country_code = stored
    problems = {p.field: p.message for p in ace_opportunity_problems(opportunity)}
    assert problems["country"] == f"“{stored}” is not an ISO country code Partner Central accepts."


def test_the_ace_admin_offers_the_same_country_select_as_the_intake_form(rf):
    from django.contrib import admin

    from filing.models import AceOpportunity
    from intake.countries import country_choices

    opportunity = _ready_draft(country="DE")
    request = rf.get("/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    form = admin.site._registry[AceOpportunity].get_form(request, opportunity)(instance=opportunity)
    field = form.fields["country_code"]
    assert list(field.choices)[1:] == list(country_choices())
    assert 'value="DE" selected' in str(form["country_code"])
    assert field.clean("de") == "DE"
    with pytest.raises(ValidationError, match="three-letter code"):
        field.clean("USA")


def test_a_contact_email_too_long_for_partner_central_is_left_blank_not_cut_into_another_address():
    local = "a" * 70
    intake = FilingIntakeFactory(contact_email=f"{local}@parsewell.example")  # 88 characters
    opportunity = ace_opportunity_draft(engagement=FilingEngagementFactory(intake=intake))

    assert opportunity.contact_email == ""  # for the partner to fill in, not "…@parsewell"
