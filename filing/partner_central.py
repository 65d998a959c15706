"""The Partner Central client: boto3's partnercentral-selling (ACE) and partnercentral-benefits,
built from settings, with request bodies taken from our records and errors turned into words."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from django.conf import settings

if TYPE_CHECKING:
    from .models import AceOpportunity, CreditApplication

SELLING = "partnercentral-selling"
BENEFITS = "partnercentral-benefits"

# Throttling and server faults pass; the rest need a person to change something first.
RETRYABLE_CODES = {"ThrottlingException", "InternalServerException", "ServiceUnavailableException"}

_ERROR_WORDS = {
    "ThrottlingException": "Partner Central is busy and asked us to slow down; CloudRoute will try again shortly.",
    "InternalServerException": "Partner Central had an internal error; CloudRoute will try again shortly.",
    "ServiceUnavailableException": "Partner Central is unavailable right now; CloudRoute will try again shortly.",
    "ValidationException": "Partner Central rejected the data",
    "AccessDeniedException": (
        "Partner Central refused access: CloudRoute's credentials are not allowed to do this "
        "(check the IAM role and the partner's Partner Central permissions)."
    ),
    "ResourceNotFoundException": "Partner Central cannot find this record (it may be in the other catalog or deleted).",
    "ConflictException": "Partner Central reports a conflict: the record changed or is not in a state that allows this.",
}


class PartnerCentralError(Exception):
    """A failed Partner Central call, with the AWS error code, words for the partner, and
    whether retrying can help."""

    def __init__(self, code: str, message: str, *, details: list[str] | None = None):
        self.code = code
        self.aws_message = message
        self.details = details or []
        super().__init__(self.words)

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_CODES

    @property
    def words(self) -> str:
        base = _ERROR_WORDS.get(self.code, f"Partner Central call failed ({self.code})")
        if self.code == "ValidationException":
            parts = self.details or ([self.aws_message] if self.aws_message else [])
            return f"{base}: " + "; ".join(parts) + ". Fix the fields and submit again." if parts else f"{base}."
        if self.aws_message and self.code not in RETRYABLE_CODES:
            return f"{base} ({self.aws_message})"
        return base

    @classmethod
    def from_client_error(cls, exc: ClientError) -> PartnerCentralError:
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = error.get("Message") or exc.response.get("Message", "")
        details = []
        for item in exc.response.get("ErrorList") or exc.response.get("FieldList") or []:
            field = item.get("FieldName") or item.get("Name") or ""
            details.append(f"{field}: {item.get('Message', item.get('Code', ''))}".strip(": "))
        return cls(code, message, details=details)


# --- clients --------------------------------------------------------------------------------------

_clients: dict[tuple, Any] = {}
_lock = threading.Lock()


def _credential_settings() -> tuple[str, str, str, str]:
    return (
        settings.PARTNER_CENTRAL_AWS_PROFILE,
        settings.PARTNER_CENTRAL_ACCESS_KEY_ID,
        settings.PARTNER_CENTRAL_SECRET_ACCESS_KEY,
        settings.PARTNER_CENTRAL_SESSION_TOKEN,
    )


def is_configured() -> bool:
    """True when settings give Partner Central credentials; otherwise filings are recorded by hand."""
    profile, key_id, secret, _ = _credential_settings()
    return bool(profile or (key_id and secret))


def _client(service: str):
    profile, key_id, secret, token = _credential_settings()
    key = (service, settings.PARTNER_CENTRAL_REGION, profile, key_id, secret, token)
    with _lock:
        if key not in _clients:
            if profile:
                session = boto3.session.Session(profile_name=profile)
            else:
                session = boto3.session.Session(
                    aws_access_key_id=key_id or None,
                    aws_secret_access_key=secret or None,
                    aws_session_token=token or None,
                )
            # Retries are the Celery task's job (with backoff and a record of each attempt).
            config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30)
            _clients[key] = session.client(service, region_name=settings.PARTNER_CENTRAL_REGION, config=config)
        return _clients[key]


def selling_client():
    """The process-wide partnercentral-selling client for the current settings."""
    return _client(SELLING)


def benefits_client():
    """The process-wide partnercentral-benefits client for the current settings."""
    return _client(BENEFITS)


def _call(client, operation: str, **params) -> dict:
    try:
        return getattr(client, operation)(**params)
    except ClientError as exc:
        raise PartnerCentralError.from_client_error(exc) from exc
    except (BotoConnectionError, HTTPClientError) as exc:  # connection failures, timeouts: worth another try
        raise PartnerCentralError("ServiceUnavailableException", str(exc)) from exc


# --- the service model, for validation and choices ------------------------------------------------

_models: dict[str, Any] = {}


def service_model(service: str):
    if service not in _models:
        _models[service] = botocore.session.get_session().get_service_model(service)
    return _models[service]


def enum_values(shape_name: str, service: str = SELLING) -> list[str]:
    return list(service_model(service).shape_for(shape_name).enum)


def shape_pattern(shape_name: str, service: str = SELLING) -> re.Pattern | None:
    pattern = service_model(service).shape_for(shape_name).metadata.get("pattern")
    return re.compile(pattern) if pattern else None


# --- ACE opportunities ----------------------------------------------------------------------------


def opportunity_payload(opportunity: AceOpportunity) -> dict:
    """CreateOpportunity's parameters for one opportunity; empty optional fields are left out."""
    account: dict[str, Any] = {"CompanyName": opportunity.company_name, "Address": {"CountryCode": opportunity.country_code}}
    if opportunity.postal_code:
        account["Address"]["PostalCode"] = opportunity.postal_code
    if opportunity.website_url:
        account["WebsiteUrl"] = opportunity.website_url
    if opportunity.industry:
        account["Industry"] = opportunity.industry
    if opportunity.other_industry:
        account["OtherIndustry"] = opportunity.other_industry
    if opportunity.aws_account_id:
        account["AwsAccountId"] = opportunity.aws_account_id
    contact = {
        key: value
        for key, value in (
            ("Email", opportunity.contact_email),
            ("FirstName", opportunity.contact_first_name),
            ("LastName", opportunity.contact_last_name),
            ("BusinessTitle", opportunity.contact_title),
            ("Phone", opportunity.contact_phone),
        )
        if value
    }
    customer: dict[str, Any] = {"Account": account}
    if contact:
        customer["Contacts"] = [contact]

    project: dict[str, Any] = {
        "Title": opportunity.title,
        "CustomerBusinessProblem": opportunity.customer_business_problem,
        "DeliveryModels": list(opportunity.delivery_models),
        "ExpectedCustomerSpend": [
            {
                "Amount": f"{opportunity.expected_monthly_spend:.2f}",
                "CurrencyCode": opportunity.currency,
                "Frequency": "Monthly",
                "TargetCompany": "AWS",
            }
        ],
    }
    if opportunity.sales_activities:
        project["SalesActivities"] = list(opportunity.sales_activities)
    if opportunity.customer_use_case:
        project["CustomerUseCase"] = opportunity.customer_use_case
    if opportunity.competitor_name:
        project["CompetitorName"] = opportunity.competitor_name
    if opportunity.other_competitor_names:
        project["OtherCompetitorNames"] = opportunity.other_competitor_names
    if opportunity.additional_comments:
        project["AdditionalComments"] = opportunity.additional_comments

    life_cycle: dict[str, Any] = {"Stage": opportunity.stage}
    if opportunity.target_close_date:
        life_cycle["TargetCloseDate"] = opportunity.target_close_date.isoformat()
    if opportunity.next_steps:
        life_cycle["NextSteps"] = opportunity.next_steps
    if opportunity.closed_lost_reason:
        life_cycle["ClosedLostReason"] = opportunity.closed_lost_reason

    payload = {
        "Catalog": opportunity.catalog,
        "ClientToken": opportunity.client_token,
        "Origin": opportunity.origin,
        "OpportunityType": opportunity.opportunity_type,
        "PartnerOpportunityIdentifier": f"CR-{opportunity.engagement_id}",
        "Customer": customer,
        "Project": project,
        "LifeCycle": life_cycle,
    }
    if opportunity.primary_needs:
        payload["PrimaryNeedsFromAws"] = list(opportunity.primary_needs)
    return payload


def create_opportunity(opportunity: AceOpportunity) -> dict:
    """CreateOpportunity; returns the response (Id, LastModifiedDate). Safe to repeat: the
    ClientToken is the opportunity's own."""
    return _call(selling_client(), "create_opportunity", **opportunity_payload(opportunity))


def submit_opportunity(opportunity: AceOpportunity) -> None:
    """SubmitOpportunity: hands the opportunity to AWS for co-sell review."""
    _call(
        selling_client(),
        "submit_opportunity",
        Catalog=opportunity.catalog,
        Identifier=opportunity.partner_central_id,
        InvolvementType=opportunity.involvement_type,
        Visibility=opportunity.visibility,
    )


def update_opportunity(opportunity: AceOpportunity) -> dict:
    """UpdateOpportunity with the edited draft (after Action Required); Partner Central refuses it
    unless LastModifiedDate matches what it holds, so a stale edit cannot overwrite a newer one."""
    payload = opportunity_payload(opportunity)
    for create_only in ("ClientToken", "Origin"):
        payload.pop(create_only)
    payload["Identifier"] = opportunity.partner_central_id
    payload["LastModifiedDate"] = opportunity.partner_central_modified_at
    return _call(selling_client(), "update_opportunity", **payload)


def get_opportunity(*, catalog: str, identifier: str) -> dict:
    return _call(selling_client(), "get_opportunity", Catalog=catalog, Identifier=identifier)


# --- benefit (credit) applications ----------------------------------------------------------------


def benefit_application_payload(application: CreditApplication) -> dict:
    engagement = application.engagement
    intake = engagement.intake
    name = f"{application.pool.name} — {intake.company_name}"[:255]
    description = (
        f"{application.pool.name} credits for {intake.company_name}: {application.currency} "
        f"{application.amount_requested:.2f} requested (CloudRoute engagement #{engagement.pk})."
    )[:1000]
    payload: dict[str, Any] = {
        "Catalog": application.catalog,
        "ClientToken": application.client_token,
        "BenefitIdentifier": application.pool.partner_central_benefit_id,
        "Name": name,
        "Description": description,
        "FulfillmentTypes": ["CREDITS"],
        "BenefitApplicationDetails": {
            "RequestedAmount": f"{application.amount_requested:.2f}",
            "CurrencyCode": application.currency,
            "CustomerCompanyName": intake.company_name,
        },
    }
    opportunity = getattr(engagement, "ace_opportunity", None)
    if opportunity is not None and opportunity.partner_central_arn:
        payload["AssociatedResources"] = [opportunity.partner_central_arn]
    return payload


def create_benefit_application(application: CreditApplication) -> dict:
    """CreateBenefitApplication; returns Id, Arn, Revision. Safe to repeat (ClientToken)."""
    return _call(benefits_client(), "create_benefit_application", **benefit_application_payload(application))


def submit_benefit_application(application: CreditApplication) -> None:
    _call(
        benefits_client(),
        "submit_benefit_application",
        Catalog=application.catalog,
        Identifier=application.benefit_application_id,
    )


def get_benefit_application(*, catalog: str, identifier: str) -> dict:
    return _call(benefits_client(), "get_benefit_application", Catalog=catalog, Identifier=identifier)


@dataclass(frozen=True)
class OpportunityState:
    """What the sync compares: the LifeCycle as Partner Central has it."""

    stage: str
    review_status: str
    review_comments: str
    review_status_reason: str
    closed_lost_reason: str
    arn: str
    modified_at: Any


def opportunity_state(response: dict) -> OpportunityState:
    life_cycle = response.get("LifeCycle") or {}
    return OpportunityState(
        stage=life_cycle.get("Stage", ""),
        review_status=life_cycle.get("ReviewStatus", ""),
        review_comments=life_cycle.get("ReviewComments", ""),
        review_status_reason=life_cycle.get("ReviewStatusReason", ""),
        closed_lost_reason=life_cycle.get("ClosedLostReason", ""),
        arn=response.get("Arn", ""),
        modified_at=response.get("LastModifiedDate"),
    )
