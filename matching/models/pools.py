"""Credit pools a startup may qualify for, and how each is filed."""
from decimal import Decimal

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
    partner_central_benefit_id = models.CharField(
        max_length=300, blank=True,
        help_text="Partner Central benefit id (ben-…) or ARN; when set, credit applications are filed through the API.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
