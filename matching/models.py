"""Credit pools, partners and the engagement that ties an intake to a partner."""
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class FilingRoute(models.TextChoices):
    SELF_SERVE = "self_serve", "Self-serve (the founder applies)"
    PARTNER_ACE = "partner_ace", "Partner-filed through ACE"
    COMPETITIVE = "competitive", "Competitive application"


class CreditPool(models.Model):
    """A pool of AWS credits a startup may qualify for. Staff edit it; rules are versioned."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    filing_route = models.CharField(max_length=20, choices=FilingRoute.choices)
    amount_min_usd = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    amount_max_usd = models.DecimalField(max_digits=12, decimal_places=2)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Partner(models.Model):
    """A vetted AWS partner firm that files credits and builds the workload."""

    name = models.CharField(max_length=200, unique=True)
    is_vetted = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    specialties = models.JSONField(default=list, blank=True, help_text='e.g. ["genai", "ml"]')
    regions = models.JSONField(default=list, blank=True, help_text='AWS regions, e.g. ["us-east-1"]')
    languages = models.JSONField(default=list, blank=True, help_text='e.g. ["en", "de"]')
    capacity = models.PositiveIntegerField(default=5, help_text="Concurrent engagements it can take.")
    commission_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.1000"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Share of approved funding owed to CloudRoute, e.g. 0.1000 for 10%.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerMember(models.Model):
    """A login that works for one partner firm; the admin scopes that user to the firm."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_member")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="members")

    def __str__(self) -> str:
        return f"{self.user} @ {self.partner}"


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
