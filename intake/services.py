"""Intake's verbs: take a founder's submission through eligibility, matching and the engagement,
and mail them the private status link once it is all committed."""
from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from matching import services as matching_services
from matching.notifications import founder_match_covered
from matching.selectors import engagement_for_founder

from .links import status_url
from .models import Intake


def duplicate_window() -> timedelta:
    """A second submission of the same company by the same email inside this window is the same intake."""
    return timedelta(minutes=getattr(settings, "INTAKE_DUPLICATE_WINDOW_MINUTES", 30))


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    data["contact_email"] = (data.get("contact_email") or "").strip().lower()
    data["company_name"] = " ".join((data.get("company_name") or "").split())
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
            contact_email=email.strip().lower(), company_name__iexact=company_name, submitted_at__gte=since
        )
        .order_by("submitted_at", "id")
        .first()
    )


def intake_submit(
    *,
    data: dict[str, Any],
    today: date | None = None,
    notify: bool = True,
    form_submission_key: str = "",
) -> tuple[Intake, bool]:
    """Save an intake, record a verdict for every pool, open its engagement and match a partner.
    Returns (intake, True) when new, or the earlier intake and False for a repeat of the same
    submission; the founder is mailed once, after commit."""
    data = _normalise(data)
    with transaction.atomic():
        _lock_submitter(data["contact_email"], data["company_name"])
        existing = intake_find_duplicate(email=data["contact_email"], company_name=data["company_name"])
        if existing is not None:
            return existing, False
        intake = Intake(**{**data, "form_submission_key": form_submission_key})
        intake.full_clean()
        intake.save()
        matching_services.intake_verdicts_record(intake=intake, today=today)
        # Keep the returned intake's cached engagement current (matching reloads it under a lock).
        with founder_match_covered():  # the intake email below names the partner
            intake.engagement = matching_services.engagement_open(intake=intake)
        if notify:
            # Rendering and sending the mail is a third of a submission's work: a worker does it.
            from .tasks import intake_status_email

            transaction.on_commit(lambda: intake_status_email.delay(intake.id))
    return intake, True


def intake_status_email_send(*, intake_id: int) -> None:
    """Mail the founder their verdicts and the private status link (text and HTML), once: a task
    delivered again after the mail went out sends nothing. (A crash between sending and marking can
    still repeat it: at least once, never lost.)"""
    if Intake.objects.filter(pk=intake_id, status_email_sent_at__isnull=False).exists():
        return
    engagement = engagement_for_founder(intake_id=intake_id)
    if engagement is None:
        return
    intake = engagement.intake
    context = {
        "intake": intake,
        "engagement": engagement,
        "verdicts": list(intake.verdicts.all()),
        "status_url": status_url(intake),
    }
    message = EmailMultiAlternatives(
        subject=f"CloudRoute: your AWS credit options for {intake.company_name}",
        body=render_to_string("emails/intake_status.txt", context),
        to=[intake.contact_email],
    )
    message.attach_alternative(render_to_string("emails/intake_status.html", context), "text/html")
    message.send()
    Intake.objects.filter(pk=intake_id, status_email_sent_at__isnull=True).update(status_email_sent_at=timezone.now())
