"""Schemathesis against the live OpenAPI schema, in process through the WSGI app: generated
requests (valid and invalid) as anonymous and as partner A must never cause a server error or a
response the schema does not describe."""
import pytest
import schemathesis
from cloudroute.wsgi import application
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# negative_data_rejection is left out on purpose: list filters treat an empty value ("?status=") as
# "no filter", django-filter's convention, which that check reads as accepting invalid input.


schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def wsgi_in_test_transaction(settings):
    settings.INTAKE_RATE_LIMIT = "100000/min"
    # The raw WSGI handler would close the test's connection after each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.schema_fuzz
@schema.parametrize()
@hypothesis_settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_response_matches_the_schema(case, world, wsgi_in_test_transaction):
    case.call_and_validate(checks=CHECKS)
    token = world.client("alice")._credentials["HTTP_AUTHORIZATION"]
    case.call_and_validate(headers={"Authorization": token}, checks=CHECKS)
