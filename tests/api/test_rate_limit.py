"""The public intake is rate-limited per client address (INTAKE_RATE_LIMIT), on the API and the
web form alike, with 429 and Retry-After past the limit."""
import pytest
from rest_framework.test import APIClient

from intake.models import Intake

from .conftest import api_intake_body

pytestmark = pytest.mark.django_db


def _submit(address: str, **overrides):
    return APIClient().post("/api/intakes/", api_intake_body(**overrides), format="json", REMOTE_ADDR=address)


def test_past_the_limit_the_api_answers_429_with_retry_after(pools, settings):
    settings.INTAKE_RATE_LIMIT = "2/min"
    assert [_submit("203.0.113.7").status_code for _ in range(2)] == [201, 201]
    refused = _submit("203.0.113.7")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["detail"].startswith("Request was throttled.")
    assert Intake.objects.count() == 2


def test_each_client_address_has_its_own_allowance(pools, settings):
    settings.INTAKE_RATE_LIMIT = "1/min"
    assert _submit("203.0.113.7").status_code == 201
    assert _submit("203.0.113.7").status_code == 429
    assert _submit("198.51.100.20").status_code == 201


def test_the_limit_is_configurable(pools, settings):
    settings.INTAKE_RATE_LIMIT = "5/hour"
    assert [_submit("203.0.113.9").status_code for _ in range(6)] == [201] * 5 + [429]


def test_the_web_form_is_limited_by_the_same_setting(client, pools, settings):
    settings.INTAKE_RATE_LIMIT = "2/min"
    posted = [client.post("/", {}, REMOTE_ADDR="203.0.113.8") for _ in range(3)]
    assert [r.status_code for r in posted] == [400, 400, 429]  # invalid forms count too
    assert int(posted[-1]["Retry-After"]) > 0
    assert b"Too many submissions" in posted[-1].content
    assert client.get("/", REMOTE_ADDR="203.0.113.8").status_code == 200  # reading the form is not limited
