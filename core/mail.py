"""Every email CloudRoute sends, through one path: stored, then delivered once by a Celery task.

`email_queue(key=…, to=…, subject=…, template=…, context=…)` renders templates/emails/<template>.txt
and .html now and stores the message (core.models.OutboundEmail) inside the caller's transaction;
`email_queue_composed(key=…, composer=…, params=…)` stores only what to compose, and the first
delivery composes it from the committed data (for an email that must show the state the whole
transaction leaves, e.g. a milestone recorded before the engagement row is saved). Either way the
row commits or rolls back with the change it announces, and on commit `core.tasks.email_deliver`
is queued. Delivery is idempotent (a row is sent at most once: it is locked while being sent, and
a sent row is left alone), connection and SMTP errors are retried with backoff, and beat's
`core.tasks.emails_deliver_waiting` queues again every row left waiting (a lost task, a killed
worker). A crash between the mail server's acceptance and the commit can still repeat one email:
at least once, never lost. The same key queued twice stores and sends one email.

Also the local email backend: every message, headers and body as the console backend would print
it, logged at INFO on the `core.mail` logger instead of written to stdout (which a Celery worker
relays at WARNING). Production sets EMAIL_BACKEND to a real one."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from .inputs import single_line_text
from .models import EmailStatus, OutboundEmail

log = logging.getLogger("core.mail")

# Attempts (task retries and sweeps together) before an email is given up (status "failed").
EMAIL_MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class Email:
    """What a composer returns: recipients, subject and templates/emails/<template>.txt/.html."""

    to: list[str]
    subject: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)


_composers: dict[str, Callable[..., Email | None]] = {}


def email_composer(name: str):
    """Registers a function params -> Email (or None: nothing to send) under a stable `name`, the one
    rows keep; an app registers its composers when it is loaded (its AppConfig.ready)."""

    def register(func: Callable[..., Email | None]) -> Callable[..., Email | None]:
        if _composers.setdefault(name, func) is not func:
            raise ValueError(f"two email composers named {name!r}")
        return func

    return register


def email_subject(text: str) -> str:
    """A subject as one plain line, whatever names went into it (a company's, a partner's, an eval
    set's): a line break would end the header (Django refuses to send it, so every retry fails) and
    a bidi control would reverse what the reader sees."""
    return single_line_text(text)


def _rendered(email: Email) -> dict[str, Any]:
    context = {"site_url": settings.SITE_URL.rstrip("/"), **email.context}
    return {"to": list(email.to), "subject": email_subject(email.subject),
            "body": render_to_string(f"emails/{email.template}.txt", context),
            "html": render_to_string(f"emails/{email.template}.html", context)}


def _store(key: str, fields: dict[str, Any]) -> None:
    """Stores the email under `key` unless one is stored already (the first wins; one INSERT ... ON
    CONFLICT DO NOTHING, no savepoint), and queues its delivery once the caller commits."""
    OutboundEmail.objects.bulk_create([OutboundEmail(key=key, **fields)], ignore_conflicts=True)
    transaction.on_commit(lambda: _deliver_later(key), robust=True)


def _deliver_later(key: str) -> None:
    from .tasks import email_deliver

    email_deliver.delay(key)


def email_queue(*, key: str, to: list[str], subject: str, template: str, context: dict) -> None:
    """Renders templates/emails/<template>.txt and .html now, stores them as one message to `to`
    under `key`, and sends it after the caller's transaction commits. Nothing when `to` is empty."""
    if to:
        _store(key, _rendered(Email(to=to, subject=subject, template=template, context=context)))


def email_queue_composed(*, key: str, composer: str, params: dict[str, Any]) -> None:
    """Stores under `key` an email the registered `composer` writes from `params` (JSON) when it is
    first delivered, after the caller's transaction commits."""
    if composer not in _composers:
        raise LookupError(f"no email composer named {composer!r}")
    _store(key, {"composer": composer, "params": params})


def _compose(email: OutboundEmail) -> None:
    composed = _composers[email.composer](**email.params)
    if composed is None or not composed.to:
        email.status = EmailStatus.SKIPPED
        return
    for name, value in _rendered(composed).items():
        setattr(email, name, value)


def _message(email: OutboundEmail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(subject=email_subject(email.subject), body=email.body, to=email.to)
    if email.html:
        message.attach_alternative(email.html, "text/html")
    return message


def email_deliver(*, key: str) -> bool:
    """Sends the stored email unless it was sent (or is being sent) already; True when this call
    sent it. A failure is written on the row and raised again for the task to retry."""
    failure: Exception | None = None
    with transaction.atomic():
        email = (OutboundEmail.objects.select_for_update(skip_locked=True)
                 .filter(key=key, status=EmailStatus.PENDING).first())
        if email is None:  # sent, given up, or locked by another worker sending it right now
            return False
        email.attempts += 1
        email.last_attempt_at = timezone.now()
        try:
            if email.composer and not email.to:
                _compose(email)
            if email.status == EmailStatus.PENDING:
                _message(email).send()
                email.status, email.sent_at, email.last_error = EmailStatus.SENT, timezone.now(), ""
        except Exception as exc:  # noqa: BLE001 - recorded on the row, then raised for the retry
            failure = exc
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if email.attempts >= EMAIL_MAX_ATTEMPTS:
                email.status = EmailStatus.FAILED
                log.error("email %s given up after %s attempts: %s", email.key, email.attempts, email.last_error)
        email.save()
    if failure is not None:
        raise failure
    return email.status == EmailStatus.SENT


def emails_deliver_waiting(*, older_than: timedelta = timedelta(minutes=5),
                           not_older_than: timedelta = timedelta(days=1), limit: int = 1000) -> int:
    """Queues delivery again for every email still waiting `older_than` after it was stored or last
    tried (its task lost with the broker, or its worker killed), up to `not_older_than`: nobody is
    mailed days late. Returns how many were queued."""
    from .tasks import email_deliver

    now = timezone.now()
    quiet_since = now - older_than
    keys = list(
        OutboundEmail.objects.filter(status=EmailStatus.PENDING, created_at__gte=now - not_older_than)
        .filter(Q(last_attempt_at__isnull=True, created_at__lt=quiet_since) | Q(last_attempt_at__lt=quiet_since))
        .order_by("created_at").values_list("key", flat=True)[:limit]
    )
    for key in keys:
        email_deliver.delay(key)
    return len(keys)


class LoggingEmailBackend(ConsoleEmailBackend):
    def write_message(self, message):
        msg = message.message()
        charset = msg.get_charset().get_output_charset() if msg.get_charset() else "utf-8"
        log.info(
            "email to %s: %s\n%s\n%s",
            ", ".join(message.recipients()),
            message.subject,
            msg.as_bytes().decode(charset),
            "-" * 79,
        )
