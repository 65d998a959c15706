"""Production settings: `check --deploy` is clean, CSP and the hardening headers are sent, forms
need their CSRF token, and the docs load nothing from outside the site."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "INTAKE_", "EVALSET_"))
    }
    env.update(
        DJANGO_PRODUCTION="1",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50)[:50],
        DJANGO_ALLOWED_HOSTS="example.com",
        CLOUDROUTE_VAR_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_PRODUCTION="1", CLOUDROUTE_VAR_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_every_response_carries_the_content_security_policy(client):
    for url in ("/", "/api/schema/", "/api/docs/", "/admin/login/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_the_browsable_docs_load_only_from_this_site(client):
    html = client.get("/api/docs/").content.decode()
    assert "cdn." not in html and "jsdelivr" not in html
    assert "<script>" not in html  # the init script is a separate request, so CSP needs no inline script


@pytest.mark.django_db
def test_the_intake_form_needs_its_csrf_token(pools):
    from django.test import Client

    from tests.factories import intake_data

    client = Client(enforce_csrf_checks=True)
    page = client.get("/")
    assert b'name="csrfmiddlewaretoken"' in page.content
    refused = client.post("/", {k: v for k, v in intake_data().items() if v is not None})
    assert refused.status_code == 403
