"""Factories and fixtures for the filing tests (ACE, credit applications, commission, pipeline)."""
import datetime as dt
from decimal import Decimal

import factory
import pytest
from botocore.stub import Stubber
from django.contrib.auth import get_user_model

from cloudroute.celery import app as celery_app
from intake.models import FundingKind, Intake, Stage, UseCase
from matching import partner_central
from matching.models import CreditPool, Engagement, FilingRoute, Partner


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"partner-user-{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")


class FilingPartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner Firm {n}")
    is_vetted = True
    commission_rate = Decimal("0.1000")


class FilingIntakeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Intake

    company_name = factory.Sequence(lambda n: f"Acme AI {n}")
    website = "https://acme.example"
    country = "DE"
    founded_on = dt.date(2024, 1, 15)
    contact_name = "Ada Lovelace"
    contact_email = "ada@acme.example"
    stage = Stage.SEED
    total_raised_usd = Decimal("1500000")
    funding_kind = FundingKind.INSTITUTIONAL_VC
    use_case = UseCase.RAG_SEARCH
    monthly_requests = 100_000
    avg_input_tokens = 2_000
    avg_output_tokens = 500


class FilingEngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement

    intake = factory.SubFactory(FilingIntakeFactory)
    partner = factory.SubFactory(FilingPartnerFactory)
    status = "accepted"


class FilingPoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditPool
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"pool-{n}")
    name = factory.Sequence(lambda n: f"Pool {n}")
    filing_route = FilingRoute.PARTNER_ACE
    amount_min_usd = Decimal("10000")
    amount_max_usd = Decimal("50000")


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
def eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield celery_app
    celery_app.conf.task_always_eager = previous
