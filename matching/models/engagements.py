"""The engagement that ties an intake to a partner, and its status history."""
from django.conf import settings
from django.db import models

from .partners import Partner


class EngagementStatus(models.TextChoices):
    UNMATCHED = "unmatched", "Unmatched (waiting for staff)"
    MATCHED = "matched", "Matched"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"


class Engagement(models.Model):
    """One intake's journey with one partner (or waiting for one)."""

    intake = models.OneToOneField("intake.Intake", on_delete=models.PROTECT, related_name="engagement")
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="engagements"
    )
    status = models.CharField(max_length=20, choices=EngagementStatus.choices, default=EngagementStatus.UNMATCHED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Engagement #{self.pk}: {self.intake.company_name}"


class EngagementStatusChange(models.Model):
    """Audit trail: every status move of an engagement, with who, when and why."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=EngagementStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=EngagementStatus.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    reason = models.TextField(blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]
