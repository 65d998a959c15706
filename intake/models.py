"""What a startup tells us about itself: company, contact, stage, funding and workload."""
import uuid
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.inputs import validate_plain_text

from . import limits
from .validators import validate_aws_account_id, validate_country_code, validate_not_in_future, validate_public_url

TEXT = [validate_plain_text]  # no NUL, no unpaired surrogate (core.inputs)


class Stage(models.TextChoices):
    IDEA = "idea", "Idea"
    PRE_SEED = "pre_seed", "Pre-seed"
    SEED = "seed", "Seed"
    SERIES_A = "series_a", "Series A"
    SERIES_B_PLUS = "series_b_plus", "Series B or later"


class FundingKind(models.TextChoices):
    BOOTSTRAPPED = "bootstrapped", "Bootstrapped"
    ANGELS = "angels", "Angels"
    INSTITUTIONAL_VC = "institutional_vc", "Institutional VC"
    ACCELERATOR = "accelerator", "Accelerator"


# Funding of these kinds must name its investor or accelerator (the model's rule; the form marks the
# field required while one of them is chosen).
FUNDING_KINDS_NAMING_INVESTOR = (FundingKind.INSTITUTIONAL_VC, FundingKind.ACCELERATOR)
INVESTOR_REQUIRED_MESSAGE = (
    "Required for Institutional VC or Accelerator funding: name the lead investor or accelerator."
)
INVESTOR_PROVIDER_REQUIRED_MESSAGE = (
    "Required when the investor is an AWS Activate Provider: name the investor or accelerator."
)
# When Intake.clean() requires investor_name: {field: the answers that make it required} (True: a
# ticked box). The public form marks the field "(required)" from this.
INVESTOR_REQUIRED_IF: dict[str, tuple] = {
    "funding_kind": tuple(str(kind) for kind in FUNDING_KINDS_NAMING_INVESTOR),
    "investor_is_activate_provider": (True,),
}


class UseCase(models.TextChoices):
    CHAT_ASSISTANT = "chat_assistant", "Chat assistant"
    RAG_SEARCH = "rag_search", "RAG / search"
    CLASSIFICATION_EXTRACTION = "classification_extraction", "Classification / extraction"
    SUMMARIZATION = "summarization", "Summarization"
    CODE_GENERATION = "code_generation", "Code generation"
    AGENTS = "agents", "Agents"
    OTHER = "other", "Other (not generative AI)"


class AwsRegion(models.TextChoices):
    """Regions a founder may ask their data to stay in; partners list the regions they serve."""

    US_EAST_1 = "us-east-1", "US East (N. Virginia)"
    US_EAST_2 = "us-east-2", "US East (Ohio)"
    US_WEST_2 = "us-west-2", "US West (Oregon)"
    CA_CENTRAL_1 = "ca-central-1", "Canada (Central)"
    SA_EAST_1 = "sa-east-1", "South America (Sao Paulo)"
    EU_WEST_1 = "eu-west-1", "Europe (Ireland)"
    EU_WEST_2 = "eu-west-2", "Europe (London)"
    EU_WEST_3 = "eu-west-3", "Europe (Paris)"
    EU_CENTRAL_1 = "eu-central-1", "Europe (Frankfurt)"
    EU_NORTH_1 = "eu-north-1", "Europe (Stockholm)"
    AP_SOUTH_1 = "ap-south-1", "Asia Pacific (Mumbai)"
    AP_SOUTHEAST_1 = "ap-southeast-1", "Asia Pacific (Singapore)"
    AP_SOUTHEAST_2 = "ap-southeast-2", "Asia Pacific (Sydney)"
    AP_NORTHEAST_1 = "ap-northeast-1", "Asia Pacific (Tokyo)"
    ME_CENTRAL_1 = "me-central-1", "Middle East (UAE)"


class Intake(models.Model):
    """One submission of the public form. Kept as typed; verdicts and matches hang off it."""

    # Company
    company_name = models.CharField(max_length=200, validators=TEXT)
    website = models.URLField(blank=True, validators=[*TEXT, validate_public_url])
    country = models.CharField(
        max_length=2, help_text="ISO 3166-1 alpha-2 code, e.g. US, DE.", validators=[*TEXT, validate_country_code]
    )
    founded_on = models.DateField(validators=[validate_not_in_future])
    # Contact
    contact_name = models.CharField(max_length=200, validators=TEXT)
    contact_email = models.EmailField(validators=TEXT)
    # Stage and funding
    stage = models.CharField(max_length=20, choices=Stage.choices)
    total_raised_usd = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(limits.MAX_TOTAL_RAISED_USD)],
    )
    funding_kind = models.CharField(max_length=20, choices=FundingKind.choices)
    investor_name = models.CharField(max_length=200, blank=True, validators=TEXT)
    investor_is_activate_provider = models.BooleanField(default=False)
    prior_activate_credits_usd = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(limits.MAX_PRIOR_ACTIVATE_CREDITS_USD)],
    )
    # Workload
    use_case = models.CharField(max_length=40, choices=UseCase.choices)
    monthly_requests = models.PositiveIntegerField(validators=[MaxValueValidator(limits.MAX_MONTHLY_REQUESTS)])
    avg_input_tokens = models.PositiveIntegerField(validators=[MaxValueValidator(limits.MAX_AVG_INPUT_TOKENS)])
    avg_output_tokens = models.PositiveIntegerField(validators=[MaxValueValidator(limits.MAX_AVG_OUTPUT_TOKENS)])
    models_of_interest = models.CharField(max_length=300, blank=True, validators=TEXT)
    needs_fine_tuning = models.BooleanField(default=False)
    needs_open_weights = models.BooleanField(default=False)
    data_residency_region = models.CharField(
        max_length=30, blank=True, choices=AwsRegion.choices, help_text="Blank when the founder has no preference."
    )
    aws_account_id = models.CharField(max_length=12, blank=True, validators=[*TEXT, validate_aws_account_id])

    # Private token for the founder's status link.
    status_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The random key the web form carried: a repeat post with the same key is the same browser
    # (a double click), so it may be sent to the status page; anyone else is not.
    form_submission_key = models.CharField(max_length=64, blank=True, editable=False)
    # Set once the status email has gone out, so a redelivered task does not mail it again.
    status_email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # False for intakes entered without mailing the founder (demo data, imports): the sweep that
    # re-sends lost status emails leaves them alone.
    mail_founder = models.BooleanField(default=True, editable=False)
    submitted_at = models.DateTimeField(auto_now_add=True)
    # Set when a worker has recorded the verdicts and opened the engagement (matching.intake_flow.
    # intake_evaluate); until then the founder's status page says the intake is being checked.
    evaluated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["contact_email", "company_name", "submitted_at"]),
            # The sweep for intakes whose evaluation task was lost reads only the few waiting ones.
            models.Index(fields=["submitted_at"], condition=models.Q(evaluated_at__isnull=True),
                         name="intake_awaiting_evaluation"),
            # ... and the sweep for status emails whose task was lost.
            models.Index(fields=["evaluated_at"],
                         condition=models.Q(status_email_sent_at__isnull=True, mail_founder=True),
                         name="intake_awaiting_status_email"),
        ]

    def clean(self) -> None:
        needs_investor = self.funding_kind in FUNDING_KINDS_NAMING_INVESTOR
        if needs_investor and not (self.investor_name or "").strip():
            raise ValidationError({"investor_name": INVESTOR_REQUIRED_MESSAGE})
        if self.investor_is_activate_provider and not (self.investor_name or "").strip():
            raise ValidationError({"investor_name": INVESTOR_PROVIDER_REQUIRED_MESSAGE})

    @property
    def is_evaluated(self) -> bool:
        return self.evaluated_at is not None

    @property
    def engagement_or_none(self):
        """The engagement once the intake is evaluated, else None (with no query before then)."""
        if not self.is_evaluated:
            return None
        try:
            return self.engagement
        except ObjectDoesNotExist:
            return None

    @property
    def is_genai_workload(self) -> bool:
        return self.use_case != UseCase.OTHER

    def __str__(self) -> str:
        return f"{self.company_name} ({self.submitted_at:%Y-%m-%d})" if self.submitted_at else self.company_name


class IntakeIdempotencyKey(models.Model):
    """An API client's Idempotency-Key for one intake submission: a repeat with the same key gets the
    first response back and creates nothing; the same key with a different body is refused."""

    key = models.CharField(max_length=255, unique=True)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the canonical request body.")
    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, null=True, related_name="idempotency_keys")
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key
