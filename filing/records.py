"""What the filing verbs share: who may move money, Partner Central calls made for one record (their
failures written on it in words), and reading a locked copy back into the caller's instance."""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from matching.roles import access_of

from . import partner_central
from .errors import FilingError

CENT = Decimal("0.01")
PARTNER_CENTRAL_IS_THE_SOURCE = (
    "Partner Central is the source of this record's status: CloudRoute reads it back (the admin's "
    "action Read back from Partner Central now); it is not recorded by hand."
)


def staff_only(by, what: str) -> None:
    """The money CloudRoute is owed (commission, and the approved amount it is a share of) moves only
    by CloudRoute staff, or by the system itself (by=None: tasks, commands); a partner firm's login
    reads it and never sets what it owes."""
    if by is not None and not access_of(by).is_staff:
        raise FilingError(f"Only CloudRoute staff may {what}.")


def partner_central_catalog() -> str:
    return settings.PARTNER_CENTRAL_CATALOG


def refresh(target, source) -> None:
    """Copies a locked, saved copy's fields back onto the instance the caller holds."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def record_error(model, pk: int, error: partner_central.PartnerCentralError) -> None:
    model.objects.filter(pk=pk).update(last_error=error.words, last_error_at=timezone.now())


def attempt(model, pk: int, call) -> bool:
    """Runs Partner Central calls for one record. Errors a retry can fix propagate (the task
    retries); the others go on the record in words and return False. Success clears the error."""
    try:
        call()
    except partner_central.PartnerCentralError as error:
        if error.retryable:
            raise
        record_error(model, pk, error)
        return False
    model.objects.filter(pk=pk).update(last_error="", last_error_at=None)
    return True
