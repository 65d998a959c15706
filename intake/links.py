"""The founder's private status link: the intake's random status_token, signed so a tampered or
guessed link resolves to nothing."""
import uuid

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.urls import reverse

from .models import Intake

_SALT = "intake.status-link"


def status_link_token(intake: Intake) -> str:
    return signing.Signer(salt=_SALT).sign(str(intake.status_token))


def status_path(intake: Intake) -> str:
    return reverse("intake:status", kwargs={"token": status_link_token(intake)})


def status_url(intake: Intake) -> str:
    return settings.SITE_URL.rstrip("/") + status_path(intake)


def intake_for_status_token(token: str, queryset: QuerySet[Intake] | None = None) -> Intake | None:
    """Resolve a link token to its intake (read from `queryset`, e.g. with what a page shows), or
    None when the signature or the token is wrong."""
    try:
        raw = signing.Signer(salt=_SALT).unsign(token)
    except signing.BadSignature:
        return None
    if not _is_uuid(raw):
        return None
    return (Intake.objects if queryset is None else queryset).filter(status_token=raw).first()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
