"""Every email goes through one stored, idempotent path (core.mail): a mail server failure is retried
and the email sent once, the same key queued twice sends one email, and an email whose worker was
killed is sent by the sweep. Against the real database; Celery eager except the real-worker test."""
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from core.mail import EMAIL_MAX_ATTEMPTS, email_deliver, email_queue, emails_deliver_waiting
from core.models import EmailStatus, OutboundEmail
from tests.core.mail_backends import FlakyBackend

pytestmark = pytest.mark.django_db


def queue(key="welcome:1", **overrides) -> str:
    fields = {"to": ["ada@parsewell.example"], "subject": "CloudRoute: status link",
              "template": "status_link", "context": {"intake": None, "status_url": "https://x.example/s/1/",
                                                     "max_age_days": 30}}
    email_queue(key=key, **{**fields, **overrides})
    return key


def stored(key: str) -> OutboundEmail:
    return OutboundEmail.objects.get(key=key)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.core.mail_backends.FlakyBackend"
    yield FlakyBackend
    FlakyBackend.failures = 0


def test_an_smtp_failure_is_retried_and_the_email_sent_once(flaky, celery_eager, django_capture_on_commit_callbacks):
    flaky.failures = 2
    with django_capture_on_commit_callbacks(execute=True):
        key = queue()
    assert [m.subject for m in mail.outbox] == ["CloudRoute: status link"]
    assert mail.outbox[0].alternatives[0][1] == "text/html"
    email = stored(key)
    assert (email.status, email.attempts) == (EmailStatus.SENT, 3) and email.sent_at is not None
    assert email.last_error == ""
    # Delivered again (a redelivered task, a sweep): nothing more is sent.
    assert email_deliver(key=key) is False
    assert len(mail.outbox) == 1


def test_a_mail_server_that_stays_down_leaves_the_change_and_the_email_for_later(
        flaky, celery_eager, django_capture_on_commit_callbacks):
    from intake.models import Intake
    from tests.factories import IntakeFactory

    flaky.failures = 10**6
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            intake = IntakeFactory()
            key = queue()
    assert Intake.objects.filter(pk=intake.pk).exists()  # the business change stands
    email = stored(key)
    assert email.status == EmailStatus.PENDING and email.attempts > 1
    assert email.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert mail.outbox == []
    # Past the last attempt it is given up, and the sweep leaves it alone.
    OutboundEmail.objects.filter(key=key).update(attempts=EMAIL_MAX_ATTEMPTS - 1)
    with pytest.raises(OSError):
        email_deliver(key=key)
    assert stored(key).status == EmailStatus.FAILED


def test_the_same_key_queued_twice_sends_one_email(celery_eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue(key="engagement-move:7:founder")
        queue(key="engagement-move:7:founder", subject="CloudRoute: another subject")
    with django_capture_on_commit_callbacks(execute=True):
        queue(key="engagement-move:7:founder", subject="CloudRoute: a third subject")
    assert OutboundEmail.objects.count() == 1
    assert [m.subject for m in mail.outbox] == ["CloudRoute: status link"]


def test_an_email_queued_in_a_transaction_that_rolls_back_is_never_sent(celery_eager,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            queue()
            raise RuntimeError("the change failed")
    assert not OutboundEmail.objects.exists() and mail.outbox == []


def test_no_recipient_stores_nothing():
    queue(to=[])
    assert not OutboundEmail.objects.exists()


def test_the_sweep_sends_an_email_whose_task_was_lost_once_and_only_while_it_is_fresh(celery_eager):
    lost = queue(key="lost")  # its on-commit task never ran: the test transaction never commits
    in_flight = queue(key="in-flight")
    stale = queue(key="stale")
    now = timezone.now()
    OutboundEmail.objects.filter(key=lost).update(created_at=now - timedelta(minutes=10))
    OutboundEmail.objects.filter(key=in_flight).update(created_at=now - timedelta(minutes=10),
                                                       last_attempt_at=now - timedelta(seconds=30))
    OutboundEmail.objects.filter(key=stale).update(created_at=now - timedelta(days=2))
    assert mail.outbox == []

    assert emails_deliver_waiting() == 1
    assert emails_deliver_waiting() == 0  # sent: not queued again
    assert len(mail.outbox) == 1
    assert stored(lost).status == EmailStatus.SENT
    assert stored(in_flight).status == EmailStatus.PENDING
    assert stored(stale).status == EmailStatus.PENDING


def test_a_composed_email_is_written_from_the_committed_data_when_sent(celery_eager, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    from core import mail as core_mail
    from core.mail import Email, email_composer, email_queue_composed

    monkeypatch.setattr(core_mail, "_composers", dict(core_mail._composers))  # forgotten after the test
    seen = []

    @email_composer("test_greeting")
    def greeting(*, name):
        seen.append(name)
        return Email(to=[f"{name.lower()}@example.com"], subject=f"Hello {name}", template="status_link",
                     context={"intake": None, "status_url": "https://x.example/", "max_age_days": 30})

    with django_capture_on_commit_callbacks(execute=True):
        email_queue_composed(key="greeting:ada", composer="test_greeting", params={"name": "Ada"})
        assert seen == []  # not before the commit
    assert seen == ["Ada"]
    assert [(m.to, m.subject) for m in mail.outbox] == [(["ada@example.com"], "Hello Ada")]
    email = stored("greeting:ada")
    assert email.subject == "Hello Ada" and "https://x.example/" in email.body
    with pytest.raises(LookupError):
        email_queue_composed(key="x", composer="no_such_composer", params={})
