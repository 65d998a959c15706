"""Paths people type or browsers ask for on their own: /staff/ leads to the pipeline, /favicon.ico
to the icon; Django's request log prints each refused request once."""
import logging

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_staff_root_is_the_pipeline(client, staff_user):
    client.force_login(staff_user)
    response = client.get("/staff/")
    assert response.status_code == 200 and b'id="unmatched-queue"' in response.content
    assert reverse("staff:home") == "/staff/"


def test_favicon_ico_is_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg")
    assert b"<svg" in b"".join(response.streaming_content)


def test_django_loggers_print_through_the_root_handler_only():
    for name in ("django", "django.request"):
        logger = logging.getLogger(name)
        assert logger.handlers == [] and logger.propagate, name


def test_a_wrong_password_on_the_admin_login_does_not_speak_of_staff_accounts(client):
    response = client.post(reverse("admin:login"), {"username": "someone", "password": "wrong"})
    body = response.content.decode()
    assert response.status_code == 200 and "password of your CloudRoute login" in body
    assert "staff account" not in body
