"""The founder's private status link: the intake's random status_token, signed with the time the
link was made, so a tampered or guessed link resolves to nothing, a link older than
STATUS_LINK_MAX_AGE_DAYS has expired, and a link whose token staff rotated is revoked."""
from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.urls import reverse

from .models import Intake

_SALT = "intake.status-link"


class LinkState(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"  # signed by us, older than STATUS_LINK_MAX_AGE_DAYS (or from before links expired)
    REVOKED = "revoked"  # signed by us, but its token was rotated (or the intake is gone)
    INVALID = "invalid"  # not a link we made


@dataclass(frozen=True)
class LinkCheck:
    state: LinkState
    intake: Intake | None = None  # the intake of a valid or expired link


def status_link_max_age() -> timedelta:
    return timedelta(days=settings.STATUS_LINK_MAX_AGE_DAYS)


def status_link_token(intake: Intake) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(str(intake.status_token))


def status_path(intake: Intake, token: str | None = None) -> str:
    """The page of a new link, or of `token`, a link already checked for this intake."""
    return reverse("intake:status", kwargs={"token": token or status_link_token(intake)})


def status_url(intake: Intake, token: str | None = None) -> str:
    return settings.SITE_URL.rstrip("/") + status_path(intake, token)


def status_link_check(token: str, queryset: QuerySet[Intake] | None = None) -> LinkCheck:
    """What a link token is worth: its intake (read from `queryset`, e.g. with what a page shows)
    while valid; expired, revoked or invalid otherwise."""
    try:
        value = signing.Signer(salt=_SALT).unsign(token)
    except signing.BadSignature:
        return LinkCheck(LinkState.INVALID)
    raw, _, stamp = value.rpartition(":")
    if not stamp or not raw:  # a link from before links carried their time: expired
        raw, expired = value, True
    else:
        try:
            signing.TimestampSigner(salt=_SALT).unsign(token, max_age=status_link_max_age())
            expired = False
        except signing.SignatureExpired:
            expired = True
        except (signing.BadSignature, ValueError):
            return LinkCheck(LinkState.INVALID)
    if not _is_uuid(raw):
        return LinkCheck(LinkState.INVALID)
    intake = (Intake.objects if queryset is None else queryset).filter(status_token=raw).first()
    if intake is None:
        return LinkCheck(LinkState.REVOKED)
    return LinkCheck(LinkState.EXPIRED if expired else LinkState.VALID, intake)


def intake_for_status_token(token: str, queryset: QuerySet[Intake] | None = None) -> Intake | None:
    """The intake of a valid link token, or None (wrong, tampered, expired or revoked)."""
    check = status_link_check(token, queryset)
    return check.intake if check.state is LinkState.VALID else None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
