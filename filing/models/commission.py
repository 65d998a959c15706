"""CloudRoute's routing fee on approved funding: one Commission per approved credit application,
and an append-only ledger of entries (accrual, corrections, invoiced, paid, written off).

Money rule: commission = approved amount × the partner's rate, rounded to the cent with
ROUND_HALF_UP (see filing.commission.commission_amount). The amount owed is the sum of the ledger's
accrual and correction entries; no amount is ever edited in place.
"""
from decimal import Decimal

from django.conf import settings
from django.db import models


class CommissionStatus(models.TextChoices):
    ACCRUED = "accrued", "Accrued"
    INVOICED = "invoiced", "Invoiced"
    PAID = "paid", "Paid"
    WRITTEN_OFF = "written_off", "Written off"


# Allowed moves, in one place.
COMMISSION_MOVES: dict[str, set[str]] = {
    CommissionStatus.ACCRUED: {CommissionStatus.INVOICED, CommissionStatus.WRITTEN_OFF},
    CommissionStatus.INVOICED: {CommissionStatus.PAID, CommissionStatus.WRITTEN_OFF},
    CommissionStatus.PAID: set(),
    CommissionStatus.WRITTEN_OFF: set(),
}


class Commission(models.Model):
    """The fee one approved credit application earns CloudRoute from its partner."""

    credit_application = models.OneToOneField(
        "filing.CreditApplication", on_delete=models.PROTECT, related_name="commission"
    )
    partner = models.ForeignKey("matching.Partner", on_delete=models.PROTECT, related_name="commissions")
    rate = models.DecimalField(max_digits=5, decimal_places=4, help_text="The partner's rate when it accrued.")
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=20, choices=CommissionStatus.choices, default=CommissionStatus.ACCRUED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "matching_commission"  # the table it had in matching: the move changed no table
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Commission on {self.credit_application} ({self.get_status_display()})"

    @property
    def amount(self) -> Decimal:
        """What is owed: accrual plus corrections (one query unless the entries are prefetched)."""
        return sum((e.amount for e in self.entries.all()), Decimal("0.00"))


class CommissionEntry(models.Model):
    """One immutable line of the commission ledger: money entries carry an amount, state entries
    record a move (amount 0); every line says who and when."""

    class Kind(models.TextChoices):
        ACCRUAL = "accrual", "Accrual"
        CORRECTION = "correction", "Correction"
        INVOICED = "invoiced", "Invoiced"
        PAID = "paid", "Paid"
        WRITTEN_OFF = "written_off", "Written off"

    commission = models.ForeignKey(Commission, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    base_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="Approved amount the money entry is on."
    )
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "matching_commissionentry"  # the table it had in matching: the move changed no table
        ordering = ["created_at", "id"]
        verbose_name_plural = "commission entries"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Commission entries are immutable: record a correction instead.")
        super().save(*args, **kwargs)
