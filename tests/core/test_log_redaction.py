"""A founder's status link token is a bearer secret in the path: no log line Django writes about a
request (django.request's 4xx and 5xx, runserver's request lines) carries it."""
import logging

import pytest
from django.urls import reverse

from intake.links import status_link_token, status_path
from matching.intake_flow import intake_submit, status_link_rotate
from tests.factories import intake_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


@pytest.fixture
def intake(pools):
    intake, _ = intake_submit(data=intake_data(), notify=False)
    return intake


def test_a_refused_request_on_a_live_link_logs_the_path_without_the_token(client, intake, caplog):
    token = status_link_token(intake)
    with caplog.at_level(logging.INFO):
        assert client.put(status_path(intake, token)).status_code == 405
        assert client.post(reverse("api:intake-status", args=[token])).status_code == 405

    logged = [r for r in caplog.records if r.name == "django.request"]
    assert len(logged) == 2
    assert token not in caplog.text
    assert "/status/[redacted]/" in caplog.text


def test_a_replaced_link_is_logged_without_its_token(client, intake, caplog):
    token = status_link_token(intake)
    status_link_rotate(intake=intake)
    with caplog.at_level(logging.INFO):
        assert client.get(status_path(intake, token)).status_code == 410

    assert "Gone: /status/[redacted]/" in caplog.text and token not in caplog.text


def test_request_lines_of_the_development_server_are_logged_without_the_token(intake, caplog):
    token = status_link_token(intake)
    with caplog.at_level(logging.INFO):
        logging.getLogger("django.server").info('"%s" %s %s', f"GET /status/{token}/?x=1 HTTP/1.1", "200", "512")

    assert token not in caplog.text
    assert '"GET /status/[redacted]/?x=1 HTTP/1.1" 200 512' in caplog.text
