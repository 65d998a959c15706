"""/api/ is a public JSON root linking the schema and both docs; the docs pages widen the
Content-Security-Policy by only what they need, and no other page does."""
import pytest
from django.conf import settings

from cloudroute.api_docs import REDOC_LOGO, csp_with, redoc_bundle

pytestmark = pytest.mark.django_db


def test_the_root_is_public_json_linking_the_schema_and_docs(client):
    response = client.get("/api/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["name"] == "CloudRoute API"
    assert body["schema"] == "http://testserver/api/schema/"
    assert body["docs"] == "http://testserver/api/docs/"
    assert body["redoc"] == "http://testserver/api/redoc/"
    for key in ("schema", "docs", "redoc"):
        assert client.get(body[key].removeprefix("http://testserver")).status_code == 200


def test_the_root_answers_the_same_with_a_wrong_token_or_a_browser_accept_header(client):
    assert client.get("/api/", HTTP_AUTHORIZATION="Token not-a-token").status_code == 200
    response = client.get("/api/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


def test_only_redoc_widens_the_policy_and_only_by_a_blob_worker(client):
    site = client.get("/api/")["Content-Security-Policy"]
    redoc = client.get("/api/redoc/")["Content-Security-Policy"]
    swagger = client.get("/api/docs/")["Content-Security-Policy"]

    assert site == settings.CONTENT_SECURITY_POLICY
    assert swagger == settings.CONTENT_SECURITY_POLICY
    assert redoc == settings.CONTENT_SECURITY_POLICY + "; worker-src blob:"
    assert "https:" not in redoc and "*" not in redoc
    assert client.get("/")["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY


def test_the_docs_load_nothing_from_another_origin(client):
    redoc = client.get("/api/redoc/").content.decode()
    swagger = client.get("/api/docs/").content.decode()

    assert "fonts.googleapis.com" not in redoc and "https://" not in redoc
    assert '<script src="/api/redoc/?bundle">' in redoc
    assert "https://" not in swagger
    bundle = client.get("/api/redoc/?bundle")
    assert bundle["Content-Type"].startswith("application/javascript")
    assert REDOC_LOGO.encode() not in b"".join(bundle) and b"Redoc" in redoc_bundle()[:100_000]


def test_csp_with_extends_a_directive_or_adds_it():
    policy = "default-src 'self'; img-src 'self' data:"
    assert csp_with(policy, {"img-src": ["blob:", "data:"]}) == "default-src 'self'; img-src 'self' data: blob:"
    assert csp_with(policy, {"worker-src": ["blob:"]}) == policy + "; worker-src blob:"
    assert csp_with(policy, {}) == policy
