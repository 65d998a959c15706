"""Faults outside the bake-off: the database connection cut during a founder's intake submission
(a real gunicorn process behind a TCP proxy), and Partner Central failing for an hour of beat ticks."""
import datetime as dt
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings
from django.db import connection

from filing.ace import ace_opportunity_draft
from filing.models import AceOpportunity, AceReviewStatus, AceStatusChange
from filing.tasks import MAX_RETRIES, sync_partner_central
from intake.models import Intake
from matching.intake_flow import intakes_evaluate_waiting
from matching.models import Engagement, PoolVerdict
from tests.bakeoff_jobs import worker as e2e_worker
from tests.filing.filing_support import eager_celery, FilingEngagementFactory, partner_central_credentials, selling_stub
from tests.intake.test_intake_form import form_data

from .conftest import CuttingProxy, free_port

ROOT = Path(__file__).resolve().parents[2]


def _gunicorn(tmp_path, database_url: str, **env_overrides: str):
    """A gunicorn process serving the app on the test database; yields its base URL, then stops."""
    port = free_port()
    env = os.environ.copy()
    env.update(
        DATABASE_URL=database_url,
        CLOUDROUTE_VAR_DIR=str(settings.VAR_DIR), DJANGO_DEBUG="0", INTAKE_RATE_LIMIT="1000/min",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", LOG_LEVEL="WARNING",
        **env_overrides,
    )
    log = open(tmp_path / "gunicorn.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "cloudroute.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--threads", "2", "-k", "gthread"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(url + "healthz-not-a-page", timeout=2)
            break
        except (requests.ConnectionError, requests.Timeout):  # still starting (imports on first request)
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "gunicorn.log").read_text()[-3000:]) from None
            time.sleep(0.1)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture
def web_behind_proxy(tmp_path):
    """gunicorn serving the app, its database connections going through a proxy that can cut them."""
    if connection.vendor != "postgresql":
        pytest.skip("cuts a PostgreSQL wire connection; run with DATABASE_URL=postgres://...")
    db = urlsplit(e2e_worker.test_database_url())
    proxy = CuttingProxy((db.hostname or "127.0.0.1", db.port or 5432))
    netloc = f"{db.username}@127.0.0.1:{proxy.port}" if db.username else f"127.0.0.1:{proxy.port}"
    try:
        for url in _gunicorn(tmp_path, urlunsplit((db.scheme, netloc, db.path, db.query, db.fragment))):
            yield url, proxy
    finally:
        proxy.close()


@pytest.fixture
def web_without_redis(tmp_path):
    """gunicorn whose broker, cache and rate limits (one Redis server in production) point at a port nobody
    listens on."""
    if connection.vendor != "postgresql":
        pytest.skip("a second process shares the test database: run with DATABASE_URL=postgres://...")
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    yield from _gunicorn(tmp_path, e2e_worker.test_database_url(), CELERY_BROKER_URL=dead_redis, REDIS_URL=dead_redis,
                        CACHE_REDIS_URL=dead_redis, RATE_LIMIT_REDIS_URL=dead_redis)


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_database_cut_at_commit_the_founder_sees_an_error_and_a_retry_makes_one_intake(web_behind_proxy):
    url, proxy = web_behind_proxy
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    key = re.search(r'name="submission_key" value="([^"]+)"', page.text).group(1)
    data = {**form_data(company_name="Cutwire Labs"), "csrfmiddlewaretoken": token, "submission_key": key}

    proxy.arm(b"COMMIT")  # the intake is sent; the commit never arrives
    failed = browser.post(url, data=data, headers={"Referer": url}, allow_redirects=False, timeout=10)
    assert proxy.cuts == 1
    assert failed.status_code == 500 and "text/html" in failed.headers["Content-Type"]
    assert "Server Error" in failed.text
    assert Intake.objects.filter(company_name="Cutwire Labs").count() == 0

    retried = browser.post(url, data=data, headers={"Referer": url}, allow_redirects=False, timeout=10)
    assert retried.status_code == 302 and "/status/" in retried.headers["Location"]
    assert Intake.objects.filter(company_name="Cutwire Labs").count() == 1
    again = browser.post(url, data=data, headers={"Referer": url}, allow_redirects=False, timeout=10)
    assert again.headers["Location"] == retried.headers["Location"]  # a repeat is the same intake
    assert Intake.objects.filter(company_name="Cutwire Labs").count() == 1


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_redis_down_at_submission_the_intake_is_kept_and_the_sweep_evaluates_it(
    web_without_redis, pools, celery_eager
):
    url = web_without_redis
    from tests.api.conftest import api_intake_body

    started = time.monotonic()
    accepted = requests.post(url + "api/intakes/", json=api_intake_body(company_name="Brokerless Labs"), timeout=30)
    assert accepted.status_code == 202 and accepted.json()["status"] == "received"
    assert time.monotonic() - started < 10  # the failed publish is given up quickly, not retried forever
    intake = Intake.objects.get(company_name="Brokerless Labs")
    assert intake.evaluated_at is None and not Engagement.objects.exists()

    # Redis is back (this process's broker); the periodic sweep finds the intake and evaluates it.
    Intake.objects.filter(pk=intake.pk).update(submitted_at=intake.submitted_at - dt.timedelta(minutes=5))
    assert intakes_evaluate_waiting() == 1
    intake.refresh_from_db()
    assert intake.evaluated_at is not None
    assert Engagement.objects.filter(intake=intake).count() == 1
    assert PoolVerdict.objects.filter(intake=intake).count() == len(pools)
    assert intakes_evaluate_waiting() == 0


def _get_response(identifier, stage, review_status):
    return {
        "Catalog": "Sandbox", "Id": identifier,
        "Arn": f"arn:aws:partnercentral:us-east-1:123456789012:catalog/Sandbox/opportunity/{identifier}",
        "LastModifiedDate": dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc),
        "CreatedDate": dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc),
        "RelatedEntityIdentifiers": {},
        "LifeCycle": {"Stage": stage, "ReviewStatus": review_status},
    }


@pytest.mark.faults
@pytest.mark.django_db
def test_partner_central_down_for_an_hour_of_ticks_the_sync_catches_up_once(selling_stub, eager_celery):
    opportunities = []
    for n in (1, 2):
        opportunity = ace_opportunity_draft(engagement=FilingEngagementFactory())
        opportunity.partner_central_id = f"O200000{n}"
        opportunity.review_status = AceReviewStatus.SUBMITTED
        opportunity.save()
        opportunities.append(opportunity)
    ticks = max(2, 60 // settings.PARTNER_CENTRAL_SYNC_MINUTES)

    # An hour of beat ticks while Partner Central is unavailable: each read-back retries, then
    # writes the failure on the record in words. Nothing changes in the history.
    for _ in range(ticks):
        for opportunity in opportunities:
            for _ in range(MAX_RETRIES + 1):
                selling_stub.add_client_error(
                    "get_opportunity", service_error_code="ServiceUnavailableException", http_status_code=503,
                    expected_params={"Catalog": "Sandbox", "Identifier": opportunity.partner_central_id},
                )
        assert sync_partner_central.apply().get() == {"opportunities": 2, "applications": 0}
    selling_stub.assert_no_pending_responses()  # every retry really called Partner Central
    for opportunity in opportunities:
        opportunity.refresh_from_db()
        assert opportunity.last_error and opportunity.review_status == AceReviewStatus.SUBMITTED
    assert AceStatusChange.objects.filter(source="partner_central").count() == 0

    # Back up: the next tick records what moved meanwhile; later ticks add nothing.
    for _ in range(3):
        selling_stub.add_response("get_opportunity", _get_response("O2000001", "Qualified", "Approved"),
                                  {"Catalog": "Sandbox", "Identifier": "O2000001"})
        selling_stub.add_response("get_opportunity", _get_response("O2000002", "Prospect", "In review"),
                                  {"Catalog": "Sandbox", "Identifier": "O2000002"})
        sync_partner_central.apply()

    history = list(AceStatusChange.objects.filter(source="partner_central").order_by("opportunity_id", "id")
                   .values_list("opportunity__partner_central_id", "field", "to_value"))
    assert history == [
        ("O2000001", "stage", "Qualified"), ("O2000001", "review_status", "Approved"),
        ("O2000002", "review_status", "In review"),
    ]
    assert list(AceOpportunity.objects.filter(pk__in=[o.pk for o in opportunities]).values_list("last_error", flat=True)) == ["", ""]
