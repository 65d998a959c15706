"""Vetted AWS partner firms and the logins that work for them."""
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Specialty(models.TextChoices):
    GENAI = "genai", "Generative AI"
    ML = "ml", "Machine learning / fine-tuning"
    DATA = "data", "Data / search"
    DEVOPS = "devops", "DevOps / platform"


class Partner(models.Model):
    """A vetted AWS partner firm that files credits and builds the workload."""

    name = models.CharField(max_length=200, unique=True)
    # Shown to the founders the firm is matched with, on their status page.
    contact_name = models.CharField(max_length=200, blank=True, help_text="The person founders deal with.")
    contact_email = models.EmailField(blank=True, help_text="Where founders write to the firm.")
    is_vetted = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    specialties = models.JSONField(default=list, blank=True, help_text='Any of "genai", "ml", "data", "devops", e.g. ["genai", "ml"]')
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
