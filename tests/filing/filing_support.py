"""Factories and fixtures for the filing tests (ACE, credit applications, commission, pipeline)."""
from decimal import Decimal

import factory
import pytest
from botocore.stub import Stubber

from filing import partner_central
from matching.models import Engagement
from tests.factories import CreditPoolFactory, IntakeFactory, PartnerFactory, UserFactory

__all__ = ["UserFactory"]


class FilingIntakeFactory(IntakeFactory):
    """A seed-stage RAG startup in Germany; workload chosen so the spend estimate is a round $1,485 (Claude Sonnet 4.5, us. profile)."""

    company_name = factory.Sequence(lambda n: f"Acme AI {n}")
    website = "https://acme.example"
    country = "DE"
    contact_name = "Ada Lovelace"
    contact_email = "ada@acme.example"
    use_case = "rag_search"
    monthly_requests = 100_000
    avg_input_tokens = 2_000
    avg_output_tokens = 500
    aws_account_id = ""


FilingPartnerFactory = PartnerFactory


class FilingEngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement

    intake = factory.SubFactory(FilingIntakeFactory)
    partner = factory.SubFactory(PartnerFactory)
    status = "accepted"


class FilingPoolFactory(CreditPoolFactory):
    class Meta:
        django_get_or_create = ("slug",)

    amount_min_usd = Decimal("10000")
    amount_max_usd = Decimal("50000")
    typical_amount_usd = Decimal("25000")


@pytest.fixture
def partner_central_credentials(settings):
    """Credentials in settings switch filing to the API (the stubbed clients never reach AWS)."""
    settings.PARTNER_CENTRAL_ACCESS_KEY_ID = "AKIDTESTING"
    settings.PARTNER_CENTRAL_SECRET_ACCESS_KEY = "testing-secret"
    settings.PARTNER_CENTRAL_CATALOG = "Sandbox"
    return settings


@pytest.fixture
def selling_stub(partner_central_credentials):
    with Stubber(partner_central.selling_client()) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def benefits_stub(partner_central_credentials):
    with Stubber(partner_central.benefits_client()) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def eager_celery(celery_eager):
    return celery_eager
