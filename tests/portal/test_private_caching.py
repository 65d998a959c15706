"""Pages and API answers that carry a founder's private link token or details are kept by no
browser or shared cache: whatever does not say it may be cached is Cache-Control no-store, private."""
import pytest
from django.urls import reverse

from intake.links import status_link_token, status_path
from matching.intake_flow import intake_submit
from tests.factories import intake_data
from tests.intake.test_intake_form import form_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def assert_not_stored(response) -> None:
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives, response["Cache-Control"]


@pytest.fixture
def intake(pools):
    intake, _ = intake_submit(data=intake_data(), notify=False)
    return intake


def test_the_status_page_and_its_api_answer_are_not_stored(client, intake):
    assert_not_stored(client.get(status_path(intake)))
    assert_not_stored(client.get(reverse("api:intake-status", args=[status_link_token(intake)])))
    assert "public" in client.get(reverse("favicon"))["Cache-Control"]  # what may be cached says so


def test_an_expired_or_replaced_link_page_is_not_stored(client, intake, settings):
    token = status_link_token(intake)
    settings.STATUS_LINK_MAX_AGE_DAYS = 0
    response = client.get(reverse("intake:status", args=[token]))
    assert response.status_code == 410
    assert_not_stored(response)


def test_the_form_its_errors_and_the_submission_answers_are_not_stored(client, pools):
    assert_not_stored(client.get(reverse("intake:home")))  # carries a submission key
    assert_not_stored(client.post(reverse("intake:home"), form_data(company_name="")))  # echoes the details
    assert_not_stored(client.post(reverse("api:intake-submit"), {}, content_type="application/json"))

