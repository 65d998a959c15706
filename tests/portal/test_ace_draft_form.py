"""The ACE draft as a guided form: Partner Central's choices as selects, values checked as Partner
Central checks them (nothing stored on a bad one), the readiness checklist linking every missing
field, the postal code asked here for a US customer, and read-only once submitted."""
import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from filing.ace import ace_opportunity_submit
from filing.ace_form import AceDraftForm, field_anchor, PROBLEM_FIELDS

pytestmark = pytest.mark.django_db


def form_data(opportunity, **changes) -> dict:
    """The form as the page shows it for `opportunity`, with `changes` typed in."""
    form = AceDraftForm(instance=opportunity)
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        data[name] = value
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_choices_are_selects_and_checkboxes_not_json_text(client, firms, accepted):
    client.force_login(firms["alice"])
    page = client.get(reverse("workspace:ace", args=[accepted.pk])).content.decode()
    for name in ("industry", "country_code", "customer_use_case", "competitor_name", "involvement_type"):
        assert re.search(rf'<select name="{name}"', page), name
    for name in ("delivery_models", "primary_needs", "sales_activities"):
        assert f'type="checkbox" name="{name}"' in page and f'id="field-{name}"' in page
    assert "<textarea name=\"delivery_models\"" not in page
    assert '<option value="US" selected>United States (US)</option>' in page


def test_the_checklist_links_each_missing_field_to_its_place_on_the_form(client, firms, accepted):
    opportunity = accepted.ace_opportunity
    client.force_login(firms["alice"])
    page = client.get(reverse("workspace:ace", args=[accepted.pk])).content.decode()
    # A US customer: the intake never asks for the postal code, so the checklist does, linking to it.
    link = f'href="{reverse("workspace:ace", args=[accepted.pk])}#id_postal_code">Postal code</a>'
    assert link in page and 'id="id_postal_code"' in page
    opportunity.delivery_models, opportunity.website_url = [], ""
    opportunity.save()
    page = client.get(reverse("workspace:ace", args=[accepted.pk])).content.decode()
    for anchor in ("field-delivery_models", "id_website_url", "id_postal_code"):
        assert f'#{anchor}"' in page and f'id="{anchor}"' in page, anchor
    # The workspace shows the same checklist, with the same links.
    workspace = client.get(reverse("workspace:detail", args=[accepted.pk])).content.decode()
    assert link in workspace


def test_every_field_the_readiness_check_names_is_on_the_form():
    form = AceDraftForm()
    for label, name in PROBLEM_FIELDS.items():
        assert name in form.fields, label
        assert field_anchor(name) in (f"id_{name}", f"field-{name}")


def test_saving_the_postal_code_clears_it_from_the_checklist(client, firms, accepted):
    opportunity = accepted.ace_opportunity
    client.force_login(firms["alice"])
    url = reverse("workspace:ace", args=[accepted.pk])
    response = client.post(url, form_data(opportunity, postal_code="94107", contact_phone="+1 415 555 0100"))
    assert response.status_code == 302, response.context["form"].errors
    opportunity.refresh_from_db()
    assert (opportunity.postal_code, opportunity.contact_phone) == ("94107", "+14155550100")
    page = client.get(url).content.decode()
    assert "#id_postal_code" not in page and "Ready:" in page


@pytest.mark.parametrize("field, value, message", [
    ("postal_code", "ABC", "5 digits"),
    ("contact_phone", "0415 555", "international form"),
    ("aws_account_id", "12345", "12 digits"),
    ("customer_business_problem", "too short", "20 to 2,000 characters"),
    ("expected_monthly_spend", "-5", "cannot be negative"),
    ("target_close_date", "2001-01-01", "must not be in the past"),
    ("industry", "Not an industry", "Select a valid choice"),
    ("country_code", "ZZ", "Select a valid choice"),
    ("delivery_models", ["Bogus"], "Select a valid choice"),
    ("other_industry", "", "Name the industry"),
])
def test_a_bad_value_names_its_field_and_stores_nothing(client, firms, accepted, field, value, message):
    opportunity = accepted.ace_opportunity
    before = {f.name: getattr(opportunity, f.name) for f in opportunity._meta.concrete_fields}
    changes = {field: value}
    if field == "other_industry":
        changes["industry"] = "Other"
    client.force_login(firms["alice"])
    response = client.post(reverse("workspace:ace", args=[accepted.pk]),
                           form_data(opportunity, **{"postal_code": "94107", **changes}))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    body = response.content.decode()
    assert 'id="form-errors"' in body and f'href="#{field_anchor(field)}"' in body
    opportunity.refresh_from_db()
    assert {f.name: getattr(opportunity, f.name) for f in opportunity._meta.concrete_fields} == before


def test_a_submitted_opportunity_is_read_only_without_a_save_button(client, firms, accepted):
    opportunity = accepted.ace_opportunity
    opportunity.postal_code = "94107"
    opportunity.save()
    ace_opportunity_submit(opportunity=opportunity, by=firms["alice"])
    client.force_login(firms["alice"])
    url = reverse("workspace:ace", args=[accepted.pk])
    page = client.get(url).content.decode()
    assert "Save the draft" not in page and "Submit to Partner Central" not in page and 'id="read-only-note"' in page
    assert client.post(url, form_data(opportunity, title="Changed")).status_code == 403
    opportunity.refresh_from_db()
    assert opportunity.title != "Changed"


def test_submit_refuses_a_draft_with_problems_and_lists_them(client, firms, accepted):
    client.force_login(firms["alice"])
    response = client.post(reverse("workspace:ace_submit", args=[accepted.pk]), follow=True)
    assert "postal code" in " ".join(str(m) for m in response.context["messages"])
    accepted.ace_opportunity.refresh_from_db()
    assert accepted.ace_opportunity.review_status == "Pending Submission"


def test_submit_records_a_ready_draft(client, firms, accepted):
    opportunity = accepted.ace_opportunity
    opportunity.postal_code = "94107"
    opportunity.target_close_date = timezone.localdate() + dt.timedelta(days=30)
    opportunity.save()
    client.force_login(firms["alice"])
    response = client.post(reverse("workspace:ace_submit", args=[accepted.pk]))
    assert response["Location"] == reverse("workspace:detail", args=[accepted.pk])
    opportunity.refresh_from_db()
    assert opportunity.review_status == "Submitted"


def test_before_accepting_the_ace_page_sends_the_partner_back_to_the_workspace(client, firms):
    client.force_login(firms["alice"])
    response = client.get(reverse("workspace:ace", args=[firms["engagement"].pk]))
    assert response["Location"] == reverse("workspace:detail", args=[firms["engagement"].pk])
