"""The intake's country comes from one list (intake.countries: Partner Central's CountryCode
enum): the API takes exactly its codes, in any case, and refuses anything else (a three-letter
code included) with a 400 on the field; nothing is shortened to fit the column."""
import pytest
from rest_framework.test import APIClient

from filing import partner_central
from intake.countries import country_choices, country_codes
from intake.models import Intake

from .conftest import api_intake_body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def _post(body):
    return APIClient().post("/api/intakes/", body, format="json")


def test_the_list_is_partner_centrals_country_codes_each_with_a_name():
    assert country_codes() == frozenset(partner_central.enum_values("CountryCode"))
    named = dict(country_choices())
    assert set(named) == country_codes()
    assert [code for code, name in named.items() if name == code] == []  # every code shows a name
    assert named["US"] == "United States" and named["DE"] == "Germany"


@pytest.mark.parametrize("typed, stored", [("US", "US"), ("de", "DE"), (" in ", "IN"), ("AX", "AX")])
def test_the_api_takes_a_listed_code_in_any_case(pools, typed, stored):
    response = _post(api_intake_body(country=typed))
    assert response.status_code == 202, response.content
    assert Intake.objects.get().country == stored


@pytest.mark.parametrize("typed, says", [
    ("USA", '"USA" is a three-letter code: use the two-letter ISO 3166-1 code'),
    ("usa", '"USA" is a three-letter code'),
    ("XX", 'Unknown country code "XX"'),
    ("U", 'Unknown country code "U"'),
    ("U.S.", 'Unknown country code "U.S."'),
    ("KP", 'Unknown country code "KP"'),  # not a code Partner Central accepts
    ("United States of America", "Unknown country code: use a two-letter ISO 3166-1 code"),
    ("", "This field may not be blank."),
    (840, 'Unknown country code "840"'),
])
def test_the_api_refuses_anything_else_with_a_400_on_the_field_and_stores_nothing(pools, typed, says):
    response = _post(api_intake_body(country=typed))
    assert response.status_code == 400
    errors = response.json()["fields"]
    assert list(errors) == ["country"], errors
    assert errors["country"][0].startswith(says), errors
    assert response.json()["detail"].startswith("country: ")
    assert Intake.objects.count() == 0


def test_a_long_country_value_is_refused_without_being_repeated(pools):
    response = _post(api_intake_body(country="U" * 5000))
    assert response.status_code == 400 and "UUUUUUUUUUU" not in response.content.decode()
    assert Intake.objects.count() == 0


def test_the_api_and_the_form_offer_the_same_codes(client, pools):
    html = client.get("/").content.decode()
    offered = set()
    start = html.index('<select name="country"')
    for chunk in html[start:html.index("</select>", start)].split('<option value="')[1:]:
        offered.add(chunk.split('"', 1)[0])
    assert offered - {""} == country_codes()


def test_the_intake_admin_edits_the_country_with_the_same_select(admin_client, pools):
    from tests.factories import IntakeFactory

    intake = IntakeFactory(country="DE")
    response = admin_client.get(f"/admin/intake/intake/{intake.pk}/change/")
    html = response.content.decode()
    assert '<select name="country"' in html and '<option value="DE" selected>Germany</option>' in html
    field = response.context["adminform"].form.fields["country"]
    assert list(field.choices)[1:] == list(country_choices())
