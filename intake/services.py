"""Intake's verbs: store a founder's submission, once however often it arrives, and say it was
received (intake.signals.intake_received). What happens next, the evaluation in a worker
(eligibility, matching, the engagement) and the founder's status email, is matching's
(matching.intake_flow)."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from core.inputs import email_address_text, single_line_text

from .models import Intake
from .signals import intake_received


def duplicate_window() -> timedelta:
    """A second submission of the same company by the same email inside this window is the same intake."""
    return timedelta(minutes=getattr(settings, "INTAKE_DUPLICATE_WINDOW_MINUTES", 30))


def _single_line_fields() -> tuple[str, ...]:
    """Every free-text column a founder types (names, models of interest, …; not choices, emails or
    URLs): each is one plain line (core.inputs.single_line_text), a field added later included."""
    return tuple(
        field.name for field in Intake._meta.concrete_fields
        if isinstance(field, models.CharField) and field.editable and not field.choices
        and not isinstance(field, (models.EmailField, models.URLField))
    )


SINGLE_LINE_FIELDS = _single_line_fields()


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    """The submission as stored: free text as one plain line, so a second submission that differs
    only by spacing, a zero-width or a bidi control character is found as the same intake, and no
    name carries a line break or a reversed reading into an email subject, a partner's page or a
    filing; the email as delivered (core.inputs.email_address_text)."""
    data = dict(data)
    data["contact_email"] = email_address_text(data.get("contact_email") or "")
    for name in SINGLE_LINE_FIELDS:
        if isinstance(data.get(name), str):
            data[name] = single_line_text(data[name])
    data["company_name"] = data.get("company_name") or ""
    return data


def _lock_submitter(email: str, company: str) -> None:
    """Serialise submissions of the same company and email so a double click cannot open two
    engagements. PostgreSQL: a transaction-scoped advisory lock on the pair; SQLite runs write
    transactions one at a time already (BEGIN IMMEDIATE in settings)."""
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(f"intake:{email}:{company.casefold()}".encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def intake_find_duplicate(*, email: str, company_name: str) -> Intake | None:
    since = timezone.now() - duplicate_window()
    return (
        # Emails are stored lower-cased (_normalise), so the exact match can use the
        # (contact_email, company_name, submitted_at) index instead of scanning every intake.
        Intake.objects.filter(
            contact_email=email_address_text(email), company_name__iexact=company_name, submitted_at__gte=since
        )
        .order_by("submitted_at", "id")
        .first()
    )


def intake_store(
    *, data: dict[str, Any], form_submission_key: str, mail_founder: bool = True
) -> tuple[Intake, bool]:
    """Inside the caller's transaction: the new intake, or (earlier intake, False) for a repeat.
    Nothing is queued: intake_receive says the intake arrived, matching.intake_flow.intake_submit
    evaluates it at once."""
    data = _normalise(data)
    _lock_submitter(data["contact_email"], data["company_name"])
    existing = intake_find_duplicate(email=data["contact_email"], company_name=data["company_name"])
    if existing is not None:
        return existing, False
    intake = Intake(**{**data, "form_submission_key": form_submission_key, "mail_founder": mail_founder})
    # status_token is a fresh uuid4, and repeats are found above: no uniqueness query to make.
    intake.full_clean(validate_unique=False)
    intake.save()
    # A new intake has no engagement yet: record that, so reading intake.engagement costs no query.
    Intake.engagement.related.set_cached_value(intake, None)
    return intake, True


def intake_receive(*, data: dict[str, Any], form_submission_key: str = "") -> tuple[Intake, bool]:
    """What the founder waits for: save the intake and, for a new one, send intake_received inside
    the transaction; matching's receiver queues its evaluation (verdicts, engagement, partner match,
    status email) for a worker once it is committed. Returns (intake, True) when new, or the earlier
    intake and False for a repeat of the same submission.

    If the broker cannot take the task, the intake is kept all the same and the periodic sweep
    (matching.intake_flow.intakes_evaluate_waiting) queues it again: a submission is never lost to a
    broker outage."""
    with transaction.atomic():
        intake, created = intake_store(data=data, form_submission_key=form_submission_key)
        if created:
            intake_received.send(sender=Intake, intake=intake)
    return intake, created
