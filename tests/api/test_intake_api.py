"""The public intake API: submission, its Idempotency-Key, field-level errors and the status link."""
import re
import threading

import pytest
from django.core import mail
from django.db import connection
from rest_framework.test import APIClient

from intake.models import Intake, IntakeIdempotencyKey
from matching.models import Engagement

from .conftest import api_intake_body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def _post(body, key=None, client=None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return (client or APIClient()).post("/api/intakes/", body, format="json", **headers, **extra)


def test_submission_is_accepted_at_once_and_the_status_link_shows_the_verdicts_once_evaluated(
    pools, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = _post(api_intake_body(company_name="Parsewell"))
    assert response.status_code == 202
    body = response.json()
    intake = Intake.objects.get()
    assert body["company_name"] == "Parsewell" and body["status"] == "received"
    assert body["verdicts"] == [] and body["partner_name"] is None and body["estimated_credits_usd"] is None
    assert body["status_url"].endswith(f"/status/{body['status_token']}/")
    assert not Engagement.objects.exists() and len(mail.outbox) == 0
    waiting = APIClient().get(f"/api/intakes/status/{body['status_token']}/")
    assert waiting.status_code == 200 and waiting.json() == body

    with django_capture_on_commit_callbacks(execute=True):
        for callback in queued:  # the evaluation task queued on commit, run by an eager worker
            callback()

    intake.refresh_from_db()
    assert intake.evaluated_at is not None
    status = APIClient().get(f"/api/intakes/status/{body['status_token']}/").json()
    assert status["status"] == intake.engagement.status
    assert {v["pool"] for v in status["verdicts"]} == set(pools)
    assert status["estimated_credits_usd"] == str(intake.engagement.estimated_credits_usd)
    assert len(mail.outbox) == 1
    # The email carries a link of its own, made when it was sent, to the same intake.
    mailed = re.search(r"/status/([^/\s]+)/", mail.outbox[0].body).group(1)
    assert APIClient().get(f"/api/intakes/status/{mailed}/").json()["company_name"] == "Parsewell"


def test_same_idempotency_key_returns_the_first_result_and_creates_nothing(pools, django_capture_on_commit_callbacks):
    body = api_intake_body()
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(body, key="3f9c-retry-me")
        again = _post(body, key="3f9c-retry-me")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert Intake.objects.count() == Engagement.objects.count() == 1
    assert len(mail.outbox) == 1
    assert IntakeIdempotencyKey.objects.get().intake == Intake.objects.get()


def test_same_key_with_a_different_body_is_refused_with_422(pools):
    assert _post(api_intake_body(company_name="First Co"), key="k-1").status_code == 202
    response = _post(api_intake_body(company_name="Second Co"), key="k-1")
    assert response.status_code == 422
    assert "already used with a different request body" in response.json()["detail"]
    assert list(Intake.objects.values_list("company_name", flat=True)) == ["First Co"]


def test_without_a_key_a_repeat_within_the_window_is_a_409_not_a_second_intake(pools):
    body = api_intake_body()
    assert _post(body).status_code == 202
    repeat = _post(body)
    assert repeat.status_code == 409 and "status link was emailed" in repeat.json()["detail"]
    assert "status_token" not in repeat.json()  # a stranger repeating the form learns no link
    assert Intake.objects.count() == 1


def test_errors_are_json_with_a_message_per_field(pools):
    body = api_intake_body(funding_kind="institutional_vc", investor_name="")
    del body["company_name"]
    body["country"] = "XX"
    response = _post(body)
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert fields["company_name"] == ["This field is required."]
    assert fields["country"][0].startswith('Unknown country code "XX"')
    assert Intake.objects.count() == 0

    cross_field = _post(api_intake_body(funding_kind="institutional_vc", investor_name=""))
    assert cross_field.json()["fields"] == {
        "investor_name": ["Required for Institutional VC or Accelerator funding: name the lead investor or accelerator."]
    }


def test_an_overlong_idempotency_key_is_refused(pools):
    response = _post(api_intake_body(), key="k" * 256)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["fields"]


def test_a_tampered_status_token_finds_nothing(pools):
    token = _post(api_intake_body()).json()["status_token"]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert APIClient().get(f"/api/intakes/status/{tampered}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_make_one_intake(pools):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent database connections (PostgreSQL)")
    body, results, start = api_intake_body(), [], threading.Barrier(6)

    def submit():
        start.wait()
        try:
            results.append(_post(body, key="double-click").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [202] * 6
    assert Intake.objects.count() == 1 and IntakeIdempotencyKey.objects.count() == 1
