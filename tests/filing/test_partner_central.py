"""The Partner Central client: exact requests (validated by Stubber against botocore's service
models), allowed values equal to the service's enums, and errors in words."""
import datetime as dt

import botocore.session
import pytest

from filing import partner_central
from filing.ace import ace_opportunity_draft
from filing.models import partner_central_choices as choices

from .filing_support import FilingEngagementFactory, FilingIntakeFactory, selling_stub  # noqa: F401
from .filing_support import partner_central_credentials  # noqa: F401

SELLING = botocore.session.get_session().get_service_model("partnercentral-selling")
BENEFITS = botocore.session.get_session().get_service_model("partnercentral-benefits")


@pytest.mark.parametrize(
    "choice, model, shape",
    [
        (choices.AceStage, SELLING, "Stage"),
        (choices.AceReviewStatus, SELLING, "ReviewStatus"),
        (choices.ClosedLostReason, SELLING, "ClosedLostReason"),
        (choices.Industry, SELLING, "Industry"),
        (choices.DeliveryModel, SELLING, "DeliveryModel"),
        (choices.PrimaryNeed, SELLING, "PrimaryNeedFromAws"),
        (choices.CompetitorName, SELLING, "CompetitorName"),
        (choices.SalesActivity, SELLING, "SalesActivity"),
        (choices.OpportunityOrigin, SELLING, "OpportunityOrigin"),
        (choices.OpportunityType, SELLING, "OpportunityType"),
        (choices.InvolvementType, SELLING, "SalesInvolvementType"),
        (choices.Visibility, SELLING, "Visibility"),
        (choices.BenefitStatus, BENEFITS, "BenefitApplicationStatus"),
    ],
)
def test_choices_are_exactly_the_service_enums(choice, model, shape):
    assert list(choice.values) == model.shape_for(shape).enum


@pytest.mark.django_db
def test_create_opportunity_sends_the_draft_with_its_own_client_token(selling_stub):
    intake = FilingIntakeFactory(company_name="Acme AI", contact_name="Ada Lovelace")
    opportunity = ace_opportunity_draft(engagement=FilingEngagementFactory(intake=intake))
    opportunity.target_close_date = dt.date(2027, 3, 31)
    expected = {
        "Catalog": "Sandbox",
        "ClientToken": f"cloudroute-ace-{opportunity.uuid}",
        "Origin": "Partner Referral",
        "OpportunityType": "Net New Business",
        "PartnerOpportunityIdentifier": f"CR-{opportunity.engagement_id}",
        "PrimaryNeedsFromAws": ["Co-Sell - Technical Consultation"],
        "Customer": {
            "Account": {
                "CompanyName": "Acme AI",
                "WebsiteUrl": "https://acme.example",
                "Industry": "Software and Internet",
                "Address": {"CountryCode": "DE"},
            },
            "Contacts": [{"Email": "ada@acme.example", "FirstName": "Ada", "LastName": "Lovelace"}],
        },
        "Project": {
            "Title": "Acme AI: RAG / search on Amazon Bedrock",
            "CustomerBusinessProblem": opportunity.customer_business_problem,
            "CustomerUseCase": "AI Machine Learning and Analytics",
            "DeliveryModels": ["Professional Services"],
            "SalesActivities": ["Initialized discussions with customer"],
            "CompetitorName": "No Competition",
            "ExpectedCustomerSpend": [
                {"Amount": "1485.00", "CurrencyCode": "USD", "Frequency": "Monthly", "TargetCompany": "AWS"}
            ],
        },
        "LifeCycle": {"Stage": "Prospect", "TargetCloseDate": "2027-03-31"},
    }
    selling_stub.add_response("create_opportunity", {"Id": "O1234567"}, expected)

    response = partner_central.create_opportunity(opportunity)

    assert response["Id"] == "O1234567"


@pytest.mark.django_db
def test_submit_and_get_send_catalog_identifier_and_involvement(selling_stub):
    opportunity = ace_opportunity_draft(engagement=FilingEngagementFactory())
    opportunity.partner_central_id = "O1234567"
    selling_stub.add_response(
        "submit_opportunity",
        {},
        {"Catalog": "Sandbox", "Identifier": "O1234567", "InvolvementType": "Co-Sell", "Visibility": "Full"},
    )
    selling_stub.add_response(
        "get_opportunity",
        {
            "Catalog": "Sandbox",
            "Id": "O1234567",
            "LastModifiedDate": dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc),
            "CreatedDate": dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc),
            "RelatedEntityIdentifiers": {},
            "LifeCycle": {"Stage": "Qualified", "ReviewStatus": "In review"},
        },
        {"Catalog": "Sandbox", "Identifier": "O1234567"},
    )

    partner_central.submit_opportunity(opportunity)
    state = partner_central.opportunity_state(partner_central.get_opportunity(catalog="Sandbox", identifier="O1234567"))

    assert (state.stage, state.review_status) == ("Qualified", "In review")


@pytest.mark.django_db
def test_validation_errors_name_each_field_and_are_not_retryable(selling_stub):
    selling_stub.add_client_error(
        "get_opportunity",
        service_error_code="ValidationException",
        service_message="Invalid input",
        http_status_code=400,
        modeled_fields={
            "Message": "Invalid input",
            "Reason": "REQUEST_VALIDATION_FAILED",
            "ErrorList": [
                {
                    "FieldName": "Customer.Account.WebsiteUrl",
                    "Message": "must be a valid URL",
                    "Code": "INVALID_STRING_FORMAT",
                }
            ],
        },
    )

    with pytest.raises(partner_central.PartnerCentralError) as raised:
        partner_central.get_opportunity(catalog="Sandbox", identifier="O1")

    assert not raised.value.retryable
    assert "Customer.Account.WebsiteUrl: must be a valid URL" in raised.value.words


@pytest.mark.parametrize(
    "code, retryable, words",
    [
        ("ThrottlingException", True, "try again shortly"),
        ("InternalServerException", True, "internal error"),
        ("AccessDeniedException", False, "refused access"),
        ("ResourceNotFoundException", False, "cannot find"),
        ("ConflictException", False, "conflict"),
    ],
)
def test_errors_say_what_happened_and_whether_a_retry_helps(code, retryable, words):
    error = partner_central.PartnerCentralError(code, "details from AWS")
    assert error.retryable is retryable
    assert words in error.words


def test_without_credentials_filing_is_by_hand(settings):
    settings.PARTNER_CENTRAL_ACCESS_KEY_ID = ""
    settings.PARTNER_CENTRAL_SECRET_ACCESS_KEY = ""
    settings.PARTNER_CENTRAL_AWS_PROFILE = ""
    assert partner_central.is_configured() is False
