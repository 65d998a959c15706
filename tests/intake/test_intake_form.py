"""The public form: bad input comes back with a clear message per field and every typed value;
good input lands on the founder's result page."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import Intake
from matching.models import Engagement
from tests.factories import PartnerFactory

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict:
    data = {
        "company_name": "Parsewell", "website": "https://parsewell.example", "country": "us",
        "founded_on": "2024-03-01", "contact_name": "Ada Park", "contact_email": "Ada@Parsewell.example",
        "stage": "seed", "total_raised_usd": "2500000", "funding_kind": "institutional_vc",
        "investor_name": "Foundry Ventures", "investor_is_activate_provider": "on",
        "prior_activate_credits_usd": "", "use_case": "rag_search", "monthly_requests": "400000",
        "avg_input_tokens": "1800", "avg_output_tokens": "300", "models_of_interest": "Claude Haiku",
        "data_residency_region": "", "aws_account_id": "1234-5678-9012",
    }
    data.update(overrides)
    return data


def test_form_page_has_a_label_for_every_field(client):
    html = client.get(reverse("intake:home")).content.decode()
    for name in form_data():
        assert f'for="id_{name}"' in html


TOMORROW = (timezone.localdate() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"founded_on": TOMORROW}, "founded_on", "The founding date cannot be in the future."),
        ({"aws_account_id": "12345678901"}, "aws_account_id", "An AWS account id is exactly 12 digits"),
        ({"aws_account_id": "12345678901a"}, "aws_account_id", "An AWS account id is exactly 12 digits"),
        ({"investor_name": ""}, "investor_name", "Required for Institutional VC or Accelerator funding"),
        ({"funding_kind": "accelerator", "investor_name": ""}, "investor_name", "name the lead investor or accelerator"),
        ({"country": "XX"}, "country", "Unknown country code &quot;XX&quot;"),
        ({"contact_email": "not-an-email"}, "contact_email", "Enter a valid email address."),
        ({"monthly_requests": "-5"}, "monthly_requests", "greater than or equal to 0"),
        ({"stage": ""}, "stage", "This field is required."),
    ],
)
def test_bad_field_returns_the_form_with_its_message_and_typed_values(client, overrides, field, message):
    data = form_data(**overrides)

    response = client.post(reverse("intake:home"), data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    html = response.content.decode()
    assert message in html
    for name, typed in data.items():
        if typed and name not in ("investor_is_activate_provider", "stage", "funding_kind", "use_case", "country"):
            assert f'value="{typed}"' in html or f">{typed}<" in html, name
    assert '<option value="institutional_vc" selected>' in html or overrides.get("funding_kind")
    # The country the founder chose (posted as "us") is still the one chosen.
    assert '<option value="US" selected>' in html or overrides.get("country")
    assert Intake.objects.count() == 0 and Engagement.objects.count() == 0


def test_good_submission_lands_on_the_status_page_which_waits_for_the_worker_then_shows_verdicts_and_partner(
    client, pools, celery_eager, django_capture_on_commit_callbacks
):
    PartnerFactory(name="Northwind", specialties=["genai", "data"])

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("intake:home"), form_data(), follow=True)

    assert response.status_code == 200
    intake = Intake.objects.get()
    assert (intake.country, intake.contact_email, intake.aws_account_id) == ("US", "ada@parsewell.example", "123456789012")
    assert not Engagement.objects.exists() and intake.evaluated_at is None
    waiting = response.content.decode()
    assert "We received your intake" in waiting and '<meta http-equiv="refresh" content="2">' in waiting
    assert "Northwind" not in waiting

    for callback in queued:  # the evaluation task, queued on commit, run by an (eager) worker
        callback()
    response = client.get(response.redirect_chain[-1][0])
    html = response.content.decode()
    assert "We received your intake" not in html and "refresh" not in html
    assert "Northwind" in html
    assert "AWS Activate Portfolio" in html and "you qualify" in html
    assert "AWS Activate Founders is for bootstrapped startups: yours is VC-funded." in html
    assert "up to $100,000" in html  # Portfolio 50K + POC 25K + Build 25K; the competitive accelerator is not counted
