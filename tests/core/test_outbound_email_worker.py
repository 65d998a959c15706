"""A worker SIGKILLed while it sends an email: nothing is marked sent, and the sweep has a new worker
send it, once."""
from datetime import timedelta

import pytest
from django.utils import timezone

from core.mail import email_queue, emails_deliver_waiting
from core.models import EmailStatus, OutboundEmail
from tests.bakeoff_jobs.worker import purge_broker, start_worker, wait_for  # noqa: F401 - fixture

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_an_email_whose_worker_was_killed_mid_send_is_sent_once_by_the_sweep(start_worker, tmp_path):
    sent = tmp_path / "sent.txt"
    backend = {"EMAIL_BACKEND": "tests.core.mail_backends.FileRecordingBackend", "TEST_EMAIL_FILE": str(sent)}
    doomed = start_worker(extra_env={**backend, "TEST_EMAIL_HANG": "60"}, concurrency=1)

    email_queue(key="killed-worker", to=["ada@parsewell.example"], subject="CloudRoute: status link",
                        template="status_link", context={"intake": None, "status_url": "https://x.example/",
                                                         "max_age_days": 30})
    wait_for(sent.with_suffix(".sending").exists)  # the worker holds the email and is talking to the server
    doomed.kill()
    purge_broker()  # its task is gone with it (a Redis broker would hand it back only after an hour)

    email = OutboundEmail.objects.get(key="killed-worker")
    assert email.status == EmailStatus.PENDING and not sent.exists()
    OutboundEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(minutes=10))

    start_worker(extra_env=backend, concurrency=1)
    assert emails_deliver_waiting() == 1
    wait_for(lambda: OutboundEmail.objects.get(pk=email.pk).status == EmailStatus.SENT)
    assert emails_deliver_waiting() == 0
    assert sent.read_text().splitlines() == ["CloudRoute: status link"]
