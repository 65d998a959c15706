"""The engagement that ties an intake to its matched pools and a partner, its status history and
the match decisions (automatic or by staff) that placed it with a partner."""
from decimal import Decimal

from django.conf import settings
from django.db import models

from .partners import Partner
from .pools import CreditPool


class EngagementStatus(models.TextChoices):
    UNMATCHED = "unmatched", "Unmatched (waiting for staff)"
    MATCHED = "matched", "Matched"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"


# The only place that says which status moves are allowed. MATCHED -> MATCHED is a staff reassignment.
ALLOWED_MOVES: dict[str, frozenset[str]] = {
    EngagementStatus.UNMATCHED: frozenset({EngagementStatus.MATCHED, EngagementStatus.CLOSED}),
    EngagementStatus.MATCHED: frozenset(
        {EngagementStatus.MATCHED, EngagementStatus.ACCEPTED, EngagementStatus.DECLINED, EngagementStatus.CLOSED}
    ),
    EngagementStatus.DECLINED: frozenset(
        {EngagementStatus.MATCHED, EngagementStatus.UNMATCHED, EngagementStatus.CLOSED}
    ),
    EngagementStatus.ACCEPTED: frozenset({EngagementStatus.IN_PROGRESS, EngagementStatus.CLOSED}),
    EngagementStatus.IN_PROGRESS: frozenset({EngagementStatus.CLOSED}),
    EngagementStatus.CLOSED: frozenset(),
}

# Statuses in which an engagement occupies one of its partner's capacity slots.
OCCUPYING_STATUSES = (EngagementStatus.MATCHED, EngagementStatus.ACCEPTED, EngagementStatus.IN_PROGRESS)
# Statuses staff must act on: nobody is working the engagement.
WAITING_STATUSES = (EngagementStatus.UNMATCHED, EngagementStatus.DECLINED)


class Engagement(models.Model):
    """One intake's journey with one partner (or waiting for one)."""

    intake = models.OneToOneField("intake.Intake", on_delete=models.PROTECT, related_name="engagement")
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="engagements"
    )
    status = models.CharField(max_length=20, choices=EngagementStatus.choices, default=EngagementStatus.UNMATCHED)
    # The pools the intake was found eligible for, and the sum of their estimates at intake time
    # (competitive pools excluded from the sum: they are a chance, not an expectation).
    matched_pools = models.ManyToManyField(CreditPool, blank=True, related_name="engagements")
    estimated_credits_usd = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "partner"])]

    def __str__(self) -> str:
        return f"Engagement #{self.pk}: {self.intake.company_name}"

    def can_move_to(self, status: str) -> bool:
        return status in ALLOWED_MOVES[self.status]


class EngagementStatusChange(models.Model):
    """Audit trail: every status move of an engagement, with who, when and why."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=EngagementStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=EngagementStatus.choices)
    # The partner the engagement was with when the move happened (who declined, who accepted).
    partner = models.ForeignKey(Partner, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    reason = models.TextField(blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class MatchMethod(models.TextChoices):
    AUTOMATIC = "automatic", "Automatic"
    MANUAL = "manual", "Assigned by staff"


class MatchDecision(models.Model):
    """Why an engagement went to a partner (or to nobody): the score breakdown of every candidate
    considered, or the staff member and reason for a hand assignment."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="match_decisions")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    method = models.CharField(max_length=20, choices=MatchMethod.choices)
    score = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    # {"chosen": {...breakdown...}, "candidates": [...], "excluded": [{"partner": .., "why": ..}]}
    breakdown = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_method_display()}: {self.partner or 'no partner'}"
