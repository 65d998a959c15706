"""Hostile intake input through the API, the public form and preview_eligibility: text no column can
hold, JSON nested or sized to break a parser, and numbers beyond the documented maxima are a 400 that
names the field, with nothing stored; a workload at the maxima goes all the way through Accept."""
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from filing.ace import engagement_monthly_spend_estimate
from filing.models import AceOpportunity
from intake import limits
from intake.models import Intake
from matching.models import Engagement
from tests.intake.test_intake_form import form_data

from .conftest import api_intake_body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

# field: (the maximum, as the API sends it)
MAXIMA = {
    "monthly_requests": limits.MAX_MONTHLY_REQUESTS,
    "avg_input_tokens": limits.MAX_AVG_INPUT_TOKENS,
    "avg_output_tokens": limits.MAX_AVG_OUTPUT_TOKENS,
    "total_raised_usd": limits.MAX_TOTAL_RAISED_USD,
    "prior_activate_credits_usd": limits.MAX_PRIOR_ACTIVATE_CREDITS_USD,
}


def _one_more(value):
    return value + (Decimal("0.01") if isinstance(value, Decimal) else 1)


def _as_sent(value):
    return str(value) if isinstance(value, Decimal) else value


def _post_raw(body: str, **extra):
    return APIClient().post("/api/intakes/", data=body, content_type="application/json", **extra)


def _post(body: dict):
    # json.dumps writes a lone surrogate as its \ud800 escape, as a hostile client would.
    return _post_raw(json.dumps(body))


def _refused(response, field: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"detail", "fields"} and field in body["fields"], body
    assert Intake.objects.count() == 0


# --- text and JSON --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["stage", "funding_kind", "use_case", "data_residency_region", "country",
                                   "company_name", "contact_name", "contact_email", "website", "investor_name",
                                   "models_of_interest", "aws_account_id", "founded_on", "monthly_requests"])
@pytest.mark.parametrize("text", ["\ud800", "ab\udfffcd", "a\x00b"], ids=["surrogate", "low-surrogate", "nul"])
def test_text_no_column_can_hold_is_a_400_naming_the_field(pools, field, text):
    _refused(_post(api_intake_body(**{field: text})), field)


def test_a_nul_in_the_idempotency_key_is_a_400_naming_the_header(pools):
    _refused(_post_raw(json.dumps(api_intake_body()), HTTP_IDEMPOTENCY_KEY="retry\x00me"), "Idempotency-Key")


def test_a_surrogate_in_an_unknown_key_is_refused_without_echoing_it(pools):
    response = _post({**api_intake_body(), "\ud800": "x"})
    assert response.status_code == 400 and "\\ud800" not in response.content.decode()
    assert Intake.objects.count() == 0


@pytest.mark.parametrize("body", [
    "[" * 100_000,
    '{"company_name": ' + "[" * 100_000,
    '{"company_name": ' + '{"a": ' * 200 + "1" + "}" * 201,
    '{"monthly_requests": ' + "9" * 5000 + "}",
    '{"total_raised_usd": NaN}',
    '{"total_raised_usd": 1e999}',
], ids=["nested-arrays", "nested-in-a-field", "nested-objects", "5000-digits", "nan", "infinite"])
def test_json_beyond_the_parsers_limits_is_a_400(pools, body):
    response = _post_raw(body)
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"detail", "fields"}
    assert Intake.objects.count() == 0


@pytest.mark.parametrize("account_id", ["١٢٣٤٥٦٧٨٩٠١٢", "１２３４５６７８９０１２", "12345678901２", "۱۲۳۴۵۶۷۸۹۰۱۲"])
def test_aws_account_id_is_exactly_twelve_ascii_digits(pools, client, account_id):
    _refused(_post(api_intake_body(aws_account_id=account_id)), "aws_account_id")
    page = client.post(reverse("intake:home"), form_data(aws_account_id=account_id))
    assert page.status_code == 400 and "aws_account_id" in page.context["form"].errors
    assert Intake.objects.count() == 0


# --- numbers: one bound, the same everywhere -------------------------------------------------------


@pytest.mark.parametrize("field", MAXIMA)
def test_one_over_a_maximum_is_refused_by_the_api_naming_the_field(pools, field):
    _refused(_post(api_intake_body(**{field: _as_sent(_one_more(MAXIMA[field]))})), field)


@pytest.mark.parametrize("field", MAXIMA)
def test_one_over_a_maximum_is_refused_by_the_form_naming_the_field(pools, client, field):
    page = client.post(reverse("intake:home"), form_data(**{field: str(_one_more(MAXIMA[field]))}))
    assert page.status_code == 400 and field in page.context["form"].errors
    assert Intake.objects.count() == 0


@pytest.mark.parametrize("field", MAXIMA)
def test_preview_eligibility_applies_the_same_maxima(pools, tmp_path, field):
    good = {"stage": "seed", "funding_kind": "angels", "founded_on": "2020-01-01", "country": "US",
            "use_case": "rag_search", **{name: _as_sent(value) for name, value in MAXIMA.items()}}
    over = {**good, field: _as_sent(_one_more(MAXIMA[field]))}
    path = tmp_path / "intakes.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(over) + "\n" + "[" * 100_000 + "\n")
    out = io.StringIO()
    call_command("preview_eligibility", str(path), stdout=out)
    at_max, too_big, nested = (json.loads(line) for line in out.getvalue().splitlines())
    assert "verdicts" in at_max
    assert too_big["error"] == "invalid intake" and list(too_big["fields"]) == [field]
    assert nested["line"] == 3 and "nested" in nested["error"]


def test_a_workload_at_every_maximum_is_accepted_and_goes_through_accept(world, django_capture_on_commit_callbacks):
    body = api_intake_body(country="US", data_residency_region="us-east-1", use_case="rag_search",
                           **{name: _as_sent(value) for name, value in MAXIMA.items()})
    with django_capture_on_commit_callbacks(execute=True):
        submitted = _post(body)
    assert submitted.status_code == 202, submitted.content
    intake = Intake.objects.get(company_name=body["company_name"])
    engagement = Engagement.objects.get(intake=intake)
    if engagement.partner_id is None or engagement.status != "matched":  # matching is not under test here
        Engagement.objects.filter(pk=engagement.pk).update(partner=world.partner_a, status="matched")
    login = "alice" if engagement.partner_id in (None, world.partner_a.pk) else "bob"
    accepted = world.client(login).post(f"/api/engagements/{engagement.pk}/accept/")
    assert accepted.status_code == 200, accepted.content
    spend = AceOpportunity.objects.get(engagement=engagement).expected_monthly_spend
    # Every derived figure is really at the workload's scale (billions a month), and stored whole.
    assert spend == engagement_monthly_spend_estimate(engagement) > Decimal("1000000000")
    column = AceOpportunity._meta.get_field("expected_monthly_spend")
    assert spend < Decimal(10) ** (column.max_digits - column.decimal_places)


def test_the_reported_workload_at_the_old_int_maximum_is_refused_on_every_field(pools):
    response = _post(api_intake_body(monthly_requests=2_147_483_647, avg_input_tokens=2_147_483_647,
                                     avg_output_tokens=2_147_483_647))
    _refused(response, "monthly_requests")
    assert {"avg_input_tokens", "avg_output_tokens"} <= set(response.json()["fields"])


def test_an_email_that_grows_past_its_column_when_lower_cased_is_refused_naming_the_field(pools, client):
    email = "a@" + ".".join(["İ" * 60] * 4) + ".com"  # 250 characters; "İ".lower() is two
    assert len(email) <= 254 < len(email.lower())
    _refused(_post(api_intake_body(contact_email=email)), "contact_email")
    page = client.post(reverse("intake:home"), form_data(contact_email=email))
    assert page.status_code == 400 and "contact_email" in page.context["form"].errors
    assert Intake.objects.count() == 0


def test_a_catalog_price_at_its_column_maximum_still_lets_a_maximal_workload_through_accept(
        world, django_capture_on_commit_callbacks):
    """The ACE spend stops at what its column holds, whatever staff type as a price."""
    from bakeoff_jobs.catalog_models import CatalogModel

    price = CatalogModel._meta.get_field("input_per_1m")
    top = Decimal(10) ** (price.max_digits - price.decimal_places) - Decimal(1)
    CatalogModel.objects.update(input_per_1m=top, output_per_1m=top)
    body = api_intake_body(country="US", data_residency_region="us-east-1", use_case="rag_search",
                           **{name: _as_sent(value) for name, value in MAXIMA.items()})
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(body).status_code == 202
    engagement = Engagement.objects.get(intake__company_name=body["company_name"])
    Engagement.objects.filter(pk=engagement.pk).update(partner=world.partner_a, status="matched")
    accepted = world.client("alice").post(f"/api/engagements/{engagement.pk}/accept/")
    assert accepted.status_code == 200, accepted.content
    column = AceOpportunity._meta.get_field("expected_monthly_spend")
    ceiling = Decimal(10) ** (column.max_digits - column.decimal_places) - Decimal("0.01")
    assert AceOpportunity.objects.get(engagement=engagement).expected_monthly_spend == ceiling
