"""Credit pools a startup may qualify for, how each is filed, and their versioned eligibility rules."""
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class FilingRoute(models.TextChoices):
    SELF_SERVE = "self_serve", "Self-serve (the founder applies)"
    PARTNER_ACE = "partner_ace", "Partner-filed through ACE"
    COMPETITIVE = "competitive", "Competitive application"


class RuleKind(models.TextChoices):
    """The fixed vocabulary the evaluator understands; parameters live in PoolRule.params (JSON)."""

    STAGE_IN = "stage_in", "Stage is one of"  # {"stages": ["seed", ...]}
    FUNDING_KIND_IN = "funding_kind_in", "Funding kind is one of"  # {"kinds": ["angels", ...]}
    REQUIRES_ACTIVATE_PROVIDER = "requires_activate_provider", "Needs an Activate Provider affiliation"  # {}
    MAX_COMPANY_AGE_YEARS = "max_company_age_years", "Company founded at most N years ago"  # {"years": 10}
    PRIOR_CREDITS_BELOW_USD = (
        "prior_credits_below_usd",
        "Earlier Activate credits below an amount",
    )  # {"usd": "100000"}
    REQUIRES_GENAI_WORKLOAD = "requires_genai_workload", "Needs a generative-AI workload"  # {}
    REQUIRES_WEBSITE = "requires_website", "Needs a company website"  # {}
    REQUIRES_AWS_ACCOUNT = "requires_aws_account", "Needs an AWS account id"  # {}
    MIN_TOTAL_RAISED_USD = "min_total_raised_usd", "Raised at least an amount"  # {"usd": "500000"}
    MAX_TOTAL_RAISED_USD = "max_total_raised_usd", "Raised at most an amount"  # {"usd": "5000000"}
    MIN_MONTHLY_REQUESTS = "min_monthly_requests", "Expected monthly requests at least"  # {"requests": 1000}


class CreditPool(models.Model):
    """A pool of AWS credits a startup may qualify for. Staff edit it; rules are versioned."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    filing_route = models.CharField(max_length=20, choices=FilingRoute.choices)
    route_note = models.CharField(
        max_length=300, blank=True, help_text="One sentence for founders on who files it and how."
    )
    amount_min_usd = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    amount_max_usd = models.DecimalField(max_digits=12, decimal_places=2)
    typical_amount_usd = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="The estimate shown to an eligible founder (always presented as 'up to' the maximum).",
    )
    credit_validity_months = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="How many months granted credits stay valid before they expire (empty: not known). "
                  "Credit runway never runs past it.",
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Display order on the founder's page.")
    partner_central_benefit_id = models.CharField(
        max_length=300, blank=True,
        help_text="Partner Central benefit id (ben-…) or ARN; when set, credit applications are filed through the API.",
    )

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.amount_min_usd is not None and self.amount_max_usd is not None:
            if self.amount_min_usd > self.amount_max_usd:
                raise ValidationError({"amount_min_usd": "The minimum cannot exceed the maximum."})
            if self.typical_amount_usd is not None and not (
                self.amount_min_usd <= self.typical_amount_usd <= self.amount_max_usd
            ):
                raise ValidationError({"typical_amount_usd": "The typical amount must lie within the range."})


class PoolRule(models.Model):
    """One live, staff-editable rule of a pool. Verdicts never point here: they use a RuleSetVersion."""

    pool = models.ForeignKey(CreditPool, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=40, choices=RuleKind.choices)
    params = models.JSONField(default=dict, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.pool.slug}: {self.kind} {self.params}"

    def clean(self) -> None:
        from matching.eligibility import RuleParamsError, check_params

        try:
            check_params(self.kind, self.params)
        except RuleParamsError as exc:
            raise ValidationError({"params": str(exc)}) from exc


class RuleSetVersion(models.Model):
    """A frozen snapshot of one pool's terms and rules. A new one is written whenever they change,
    so a verdict can always say exactly which rules produced it."""

    pool = models.ForeignKey(CreditPool, on_delete=models.PROTECT, related_name="rule_versions")
    version = models.PositiveIntegerField()
    snapshot = models.JSONField(help_text="Pool terms and rules as evaluated; never edited.")
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["pool", "-version"]
        constraints = [models.UniqueConstraint(fields=["pool", "version"], name="unique_pool_rule_version")]

    def __str__(self) -> str:
        return f"{self.pool.slug} v{self.version}"
