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


# Pools the founder files (or applies to) themselves: they need a link, and no partner files them.
FOUNDER_APPLIES = (FilingRoute.SELF_SERVE, FilingRoute.COMPETITIVE)


class CitesSource(models.Model):
    """Every rule, and every pool's terms, cite the published page they come from and when it was read."""

    source_url = models.URLField(blank=True, help_text="The published page this comes from.")
    source_as_of = models.DateField(null=True, blank=True, help_text="When that page was read.")
    source_note = models.TextField(
        blank=True, help_text="Where sources disagree or rest on marketing pages only, and which reading is seeded."
    )

    class Meta:
        abstract = True

    def clean_source(self) -> None:
        errors = {}
        if not self.source_url:
            errors["source_url"] = "Cite the published page this comes from."
        if not self.source_as_of:
            errors["source_as_of"] = "Give the date the page was read."
        if errors:
            raise ValidationError(errors)


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


class CreditPool(CitesSource):
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
    apply_url = models.URLField(
        blank=True,
        help_text="Where the founder applies: required for self-serve and competitive pools, shown as their next step.",
    )
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
        if self.filing_route in FOUNDER_APPLIES and not self.apply_url:
            raise ValidationError({"apply_url": "Give the link where the founder applies: the founder files this pool."})
        self.clean_source()


class PoolRule(CitesSource):
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
        self.clean_source()


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


class EvaluationStamp(models.Model):
    """One row whose stamp is renewed in the same transaction as every edit that can change how an
    intake is evaluated (pools, their rules and versions, partners; matching.evaluation_cache). A
    process keeps what it loaded for evaluation under the stamp it read: every process sees an edit
    as soon as it commits, the editing transaction at once, and a rolled-back edit's stamp is never
    seen again (each stamp is a new uuid4, never a counter that a later edit could repeat)."""

    stamp = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.stamp
