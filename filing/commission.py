"""CloudRoute's commission on approved credits: accrue it once per approved application, correct it by
ledger entries, move it accrued → invoiced → paid (or written off). Money moves only by CloudRoute
staff or the system itself.

Commission rounding: commission = approved amount × partner rate, quantized to the cent
(Decimal("0.01")) with ROUND_HALF_UP, once per approved application; later changes are
correction entries for the difference, never edits.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from .errors import FilingError
from .models import COMMISSION_MOVES, Commission, CommissionEntry, CommissionStatus, CreditApplication
from .records import CENT, staff_only


def commission_amount(*, approved: Decimal, rate: Decimal) -> Decimal:
    """approved × rate, to the cent, ROUND_HALF_UP."""
    return (Decimal(approved) * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def commission_accrue(*, application: CreditApplication, by=None) -> Commission | None:
    """Accrues CloudRoute's fee on an approved application at its partner's rate; once only."""
    partner = application.engagement.partner
    if partner is None or application.amount_approved is None:
        return None
    with transaction.atomic():
        commission, created = Commission.objects.get_or_create(
            credit_application=application,
            defaults={"partner": partner, "rate": partner.commission_rate, "currency": application.currency},
        )
        if created:
            CommissionEntry.objects.create(
                commission=commission,
                kind=CommissionEntry.Kind.ACCRUAL,
                amount=commission_amount(approved=application.amount_approved, rate=commission.rate),
                base_amount=application.amount_approved,
                note=f"{commission.rate * 100:.2f}% of {application.currency} {application.amount_approved:.2f} approved.",
                created_by=by,
            )
    return commission


def commission_correct(*, commission: Commission, amount: Decimal, by, reason: str) -> CommissionEntry | None:
    """Sets what is owed to `amount` by recording the difference as a correction entry."""
    staff_only(by, "correct a commission")
    if not reason.strip():
        raise FilingError("Say why the commission is corrected.")
    amount = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    with transaction.atomic():
        locked = Commission.objects.select_for_update().get(pk=commission.pk)
        if locked.status == CommissionStatus.WRITTEN_OFF:
            raise FilingError("A written-off commission cannot be corrected.")
        current = sum(locked.entries.values_list("amount", flat=True), Decimal("0.00"))
        delta = amount - current
        if delta == 0:
            return None
        return CommissionEntry.objects.create(
            commission=locked, kind=CommissionEntry.Kind.CORRECTION, amount=delta, note=reason, created_by=by
        )


_STATUS_ENTRY = {
    CommissionStatus.INVOICED: CommissionEntry.Kind.INVOICED,
    CommissionStatus.PAID: CommissionEntry.Kind.PAID,
    CommissionStatus.WRITTEN_OFF: CommissionEntry.Kind.WRITTEN_OFF,
}


def commission_move(*, commission: Commission, to_status: str, by, note: str = "") -> Commission:
    """accrued → invoiced → paid, or written off; each step a ledger entry with who and when."""
    staff_only(by, "move a commission")
    with transaction.atomic():
        locked = Commission.objects.select_for_update().get(pk=commission.pk)
        if to_status not in COMMISSION_MOVES[locked.status]:
            raise FilingError(
                f"A commission cannot move from {locked.get_status_display().lower()} to "
                f"{CommissionStatus(to_status).label.lower()}."
            )
        locked.status = to_status
        locked.save(update_fields=["status"])
        CommissionEntry.objects.create(commission=locked, kind=_STATUS_ENTRY[to_status], note=note, created_by=by)
    commission.status = to_status
    return commission
