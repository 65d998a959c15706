"""Commission: accrues once at the partner's rate (to the cent, ROUND_HALF_UP), moves accrued →
invoiced → paid or written off with who and when, and changes only through correction entries."""
from decimal import Decimal

import pytest

from filing.commission import commission_accrue, commission_amount, commission_correct, commission_move
from filing.credit_applications import (
    credit_application_correct_approved_amount,
    credit_application_record,
    credit_applications_open,
)
from filing.errors import FilingError
from filing.models import BenefitStatus, Commission, CommissionEntry, CommissionStatus

from tests.factories import CloudRouteStaffFactory

from .filing_support import FilingEngagementFactory, FilingPoolFactory

pytestmark = pytest.mark.django_db


def _approved(amount: str, rate: str = "0.1000"):
    engagement = FilingEngagementFactory(partner__commission_rate=Decimal(rate))
    [application] = credit_applications_open(engagement=engagement, pools=[FilingPoolFactory()])
    credit_application_record(application=application, status=BenefitStatus.IN_REVIEW)
    credit_application_record(application=application, status=BenefitStatus.APPROVED, amount_approved=Decimal(amount))
    return application


@pytest.mark.parametrize(
    "approved, rate, expected",
    [
        ("25000.00", "0.1000", "2500.00"),
        ("12345.67", "0.0750", "925.93"),  # 925.92525 → up
        ("10.10", "0.0250", "0.25"),  # 0.2525 → 0.25
        ("0.50", "0.0500", "0.03"),  # 0.025 → half up
        ("33333.33", "0.1250", "4166.67"),  # 4166.66625 → up
    ],
)
def test_commission_is_rounded_to_the_cent_half_up(approved, rate, expected):
    assert commission_amount(approved=Decimal(approved), rate=Decimal(rate)) == Decimal(expected)


def test_approval_accrues_once_at_the_partners_rate():
    application = _approved("12345.67", rate="0.0750")

    commission_accrue(application=application)  # a second call changes nothing
    credit_application_record(application=application, status=BenefitStatus.APPROVED)

    commission = Commission.objects.get()
    assert (commission.partner, commission.rate, commission.status) == (
        application.engagement.partner, Decimal("0.0750"), CommissionStatus.ACCRUED
    )
    [entry] = commission.entries.all()
    assert (entry.kind, entry.amount, entry.base_amount) == ("accrual", Decimal("925.93"), Decimal("12345.67"))
    assert entry.note == "7.50% of USD 12345.67 approved."


def test_a_later_rate_change_does_not_touch_an_accrued_commission():
    application = _approved("20000")
    partner = application.engagement.partner
    partner.commission_rate = Decimal("0.2000")
    partner.save()

    assert Commission.objects.get().amount == Decimal("2000.00")


def test_state_moves_record_who_and_when():
    alice = CloudRouteStaffFactory(username="alice")
    commission = commission_accrue(application=_approved("25000"))

    commission_move(commission=commission, to_status=CommissionStatus.INVOICED, by=alice, note="INV-2026-001")
    commission_move(commission=commission, to_status=CommissionStatus.PAID, by=alice)

    commission.refresh_from_db()
    assert commission.status == CommissionStatus.PAID
    assert list(commission.entries.values_list("kind", "amount", "created_by__username")) == [
        ("accrual", Decimal("2500.00"), None),
        ("invoiced", Decimal("0.00"), "alice"),
        ("paid", Decimal("0.00"), "alice"),
    ]
    assert all(e.created_at for e in commission.entries.all())
    assert commission.amount == Decimal("2500.00")


@pytest.mark.parametrize(
    "path, refused",
    [
        ([], CommissionStatus.PAID),  # accrued cannot be paid before it is invoiced
        ([CommissionStatus.WRITTEN_OFF], CommissionStatus.INVOICED),
        ([CommissionStatus.INVOICED, CommissionStatus.PAID], CommissionStatus.WRITTEN_OFF),
    ],
)
def test_only_allowed_moves(path, refused):
    commission = commission_accrue(application=_approved("1000"))
    for status in path:
        commission_move(commission=commission, to_status=status, by=None)
    with pytest.raises(FilingError, match="cannot move"):
        commission_move(commission=commission, to_status=refused, by=None)


def test_a_correction_is_a_new_entry_for_the_difference():
    bob = CloudRouteStaffFactory(username="bob")
    commission = commission_accrue(application=_approved("25000"))

    commission_correct(commission=commission, amount=Decimal("2250.005"), by=bob, reason="Agreed discount")

    assert list(commission.entries.values_list("kind", "amount", "note", "created_by__username")) == [
        ("accrual", Decimal("2500.00"), "10.00% of USD 25000.00 approved.", None),
        ("correction", Decimal("-249.99"), "Agreed discount", "bob"),  # 2250.005 → 2250.01
    ]
    assert commission.amount == Decimal("2250.01")
    with pytest.raises(FilingError, match="why"):
        commission_correct(commission=commission, amount=Decimal("1"), by=bob, reason=" ")


def test_correcting_the_approved_amount_corrects_the_commission():
    application = _approved("25000")

    credit_application_correct_approved_amount(
        application=application, amount_approved=Decimal("30000"), by=None, reason="AWS raised the award"
    )

    commission = Commission.objects.get()
    assert [e.amount for e in commission.entries.all()] == [Decimal("2500.00"), Decimal("500.00")]
    assert commission.amount == Decimal("3000.00")


def test_ledger_entries_cannot_be_edited():
    commission = commission_accrue(application=_approved("25000"))
    entry = commission.entries.get()
    entry.amount = Decimal("1")
    with pytest.raises(ValueError, match="immutable"):
        entry.save()
    assert CommissionEntry.objects.get().amount == Decimal("2500.00")


def test_a_written_off_commission_cannot_be_corrected():
    commission = commission_accrue(application=_approved("25000"))
    commission_move(commission=commission, to_status=CommissionStatus.WRITTEN_OFF, by=None, note="Partner insolvent")
    with pytest.raises(FilingError, match="written-off"):
        commission_correct(commission=commission, amount=Decimal("0"), by=None, reason="zero it")
