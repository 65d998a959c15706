"""The partner's filings for an engagement: the ACE opportunity and one credit application per pool,
each with the history of every stage/status move (from Partner Central or recorded by hand)."""
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from .partner_central_choices import (
    AceReviewStatus,
    AceStage,
    BenefitStatus,
    ClosedLostReason,
    CompetitorName,
    Industry,
    InvolvementType,
    OpportunityOrigin,
    OpportunityType,
    Visibility,
)


class ChangeSource(models.TextChoices):
    PARTNER_CENTRAL = "partner_central", "Read back from Partner Central"
    MANUAL = "manual", "Recorded by hand"
    FILING = "filing", "Filed through CloudRoute"


# Allowed moves, enforced for changes recorded by hand. Partner Central's own read-back is the
# source of truth and is recorded whatever it says.
ACE_STAGE_MOVES: dict[str, set[str]] = {
    AceStage.PROSPECT: {AceStage.QUALIFIED, AceStage.TECHNICAL_VALIDATION, AceStage.CLOSED_LOST},
    AceStage.QUALIFIED: {AceStage.TECHNICAL_VALIDATION, AceStage.BUSINESS_VALIDATION, AceStage.CLOSED_LOST},
    AceStage.TECHNICAL_VALIDATION: {AceStage.BUSINESS_VALIDATION, AceStage.COMMITTED, AceStage.CLOSED_LOST},
    AceStage.BUSINESS_VALIDATION: {AceStage.COMMITTED, AceStage.CLOSED_LOST},
    AceStage.COMMITTED: {AceStage.LAUNCHED, AceStage.CLOSED_LOST},
    AceStage.LAUNCHED: set(),
    AceStage.CLOSED_LOST: set(),
}
ACE_REVIEW_MOVES: dict[str, set[str]] = {
    AceReviewStatus.PENDING_SUBMISSION: {AceReviewStatus.SUBMITTED},
    AceReviewStatus.SUBMITTED: {
        AceReviewStatus.IN_REVIEW, AceReviewStatus.APPROVED, AceReviewStatus.REJECTED, AceReviewStatus.ACTION_REQUIRED,
    },
    AceReviewStatus.IN_REVIEW: {AceReviewStatus.APPROVED, AceReviewStatus.REJECTED, AceReviewStatus.ACTION_REQUIRED},
    AceReviewStatus.ACTION_REQUIRED: {AceReviewStatus.SUBMITTED, AceReviewStatus.IN_REVIEW},
    AceReviewStatus.APPROVED: set(),
    AceReviewStatus.REJECTED: set(),
}
BENEFIT_STATUS_MOVES: dict[str, set[str]] = {
    BenefitStatus.PENDING_SUBMISSION: {BenefitStatus.IN_REVIEW, BenefitStatus.CANCELED},
    BenefitStatus.IN_REVIEW: {
        BenefitStatus.ACTION_REQUIRED, BenefitStatus.APPROVED, BenefitStatus.REJECTED, BenefitStatus.CANCELED,
    },
    BenefitStatus.ACTION_REQUIRED: {BenefitStatus.IN_REVIEW, BenefitStatus.CANCELED},
    BenefitStatus.APPROVED: set(),
    BenefitStatus.REJECTED: set(),
    BenefitStatus.CANCELED: set(),
}
ACE_FINAL_STAGES = {AceStage.LAUNCHED, AceStage.CLOSED_LOST}
ACE_FINAL_REVIEW = {AceReviewStatus.REJECTED}
BENEFIT_FINAL = {BenefitStatus.APPROVED, BenefitStatus.REJECTED, BenefitStatus.CANCELED}


def _list_default() -> list:
    return []


class AceOpportunity(models.Model):
    """The engagement's opportunity in Partner Central (ACE), field for field as CreateOpportunity
    takes it. Drafted from the intake; filed through the API or recorded by hand."""

    engagement = models.OneToOneField("matching.Engagement", on_delete=models.PROTECT, related_name="ace_opportunity")
    # Stable identity: the ClientToken is derived from it, so a retried create never files twice.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    catalog = models.CharField(max_length=20, help_text="Partner Central catalog: Sandbox or AWS.")
    partner_central_id = models.CharField(
        "Partner Central opportunity id", max_length=25, blank=True, db_index=True, help_text="e.g. O1234567"
    )
    partner_central_arn = models.CharField(max_length=300, blank=True)
    # Partner Central's LastModifiedDate as last seen; UpdateOpportunity must quote it.
    partner_central_modified_at = models.DateTimeField(null=True, blank=True)

    # Customer.Account
    company_name = models.CharField(max_length=120)
    website_url = models.CharField(max_length=255, blank=True)
    industry = models.CharField(max_length=40, choices=Industry.choices, blank=True)
    other_industry = models.CharField(max_length=255, blank=True, help_text="Required when industry is Other.")
    country_code = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. US.")
    postal_code = models.CharField(max_length=20, blank=True)
    aws_account_id = models.CharField(max_length=12, blank=True)
    # Customer.Contacts[0]
    contact_first_name = models.CharField(max_length=80, blank=True)
    contact_last_name = models.CharField(max_length=80, blank=True)
    contact_email = models.CharField(max_length=80, blank=True)
    contact_phone = models.CharField(max_length=16, blank=True, help_text="E.164, e.g. +14155550100.")
    contact_title = models.CharField(max_length=80, blank=True)

    # Project
    title = models.CharField(max_length=255)
    customer_business_problem = models.TextField(help_text="20 to 2000 characters.")
    customer_use_case = models.CharField(max_length=255, blank=True)
    delivery_models = models.JSONField(default=_list_default, blank=True, help_text="DeliveryModel values.")
    primary_needs = models.JSONField(default=_list_default, blank=True, help_text="PrimaryNeedFromAws values.")
    sales_activities = models.JSONField(default=_list_default, blank=True, help_text="SalesActivity values.")
    competitor_name = models.CharField(max_length=40, choices=CompetitorName.choices, blank=True)
    other_competitor_names = models.CharField(max_length=255, blank=True)
    expected_monthly_spend = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    currency = models.CharField(max_length=3, default="USD")
    target_close_date = models.DateField(null=True, blank=True)
    additional_comments = models.CharField(max_length=255, blank=True)

    origin = models.CharField(max_length=20, choices=OpportunityOrigin.choices, default=OpportunityOrigin.PARTNER_REFERRAL)
    opportunity_type = models.CharField(
        max_length=20, choices=OpportunityType.choices, default=OpportunityType.NET_NEW_BUSINESS
    )
    involvement_type = models.CharField(max_length=20, choices=InvolvementType.choices, default=InvolvementType.CO_SELL)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.FULL)

    # LifeCycle
    stage = models.CharField(max_length=25, choices=AceStage.choices, default=AceStage.PROSPECT)
    closed_lost_reason = models.CharField(max_length=40, choices=ClosedLostReason.choices, blank=True)
    next_steps = models.CharField(max_length=255, blank=True)
    review_status = models.CharField(
        max_length=20, choices=AceReviewStatus.choices, default=AceReviewStatus.PENDING_SUBMISSION
    )
    review_comments = models.TextField(blank=True)
    review_status_reason = models.TextField(blank=True)

    # The last Partner Central error in words; the draft itself is never touched by a failure.
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "matching_aceopportunity"  # the table it had in matching: the move changed no table
        verbose_name = "ACE opportunity"
        verbose_name_plural = "ACE opportunities"
        ordering = ["-created_at"]
        constraints = [
            # One record per Partner Central opportunity, race-free (the service also says so clearly).
            models.UniqueConstraint(fields=["partner_central_id"], condition=~models.Q(partner_central_id=""),
                                    name="ace_opportunity_partner_central_id_once"),
        ]

    def __str__(self) -> str:
        return f"ACE {self.partner_central_id or 'draft'}: {self.title}"

    @property
    def client_token(self) -> str:
        return f"cloudroute-ace-{self.uuid}"

    @property
    def is_open(self) -> bool:
        return self.stage not in ACE_FINAL_STAGES and self.review_status not in ACE_FINAL_REVIEW


class AceStatusChange(models.Model):
    """One move of an opportunity's stage or review status, with who/where it came from and when."""

    class Field(models.TextChoices):
        STAGE = "stage", "Stage"
        REVIEW_STATUS = "review_status", "Review status"

    opportunity = models.ForeignKey(AceOpportunity, on_delete=models.CASCADE, related_name="history")
    field = models.CharField(max_length=20, choices=Field.choices)
    from_value = models.CharField(max_length=40, blank=True)
    to_value = models.CharField(max_length=40)
    comment = models.TextField(blank=True, help_text="Review comments or closed-lost reason at the time.")
    source = models.CharField(max_length=20, choices=ChangeSource.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "matching_acestatuschange"  # the table it had in matching: the move changed no table
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["field", "to_value", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.get_field_display()}: {self.from_value or '—'} → {self.to_value}"


class CreditApplication(models.Model):
    """The application for one matched pool's credits, mirroring a Partner Central benefit
    application. Filed through the Benefits API when the pool has a benefit id, else by hand."""

    engagement = models.ForeignKey("matching.Engagement", on_delete=models.PROTECT, related_name="credit_applications")
    pool = models.ForeignKey("matching.CreditPool", on_delete=models.PROTECT, related_name="credit_applications")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    catalog = models.CharField(max_length=20, blank=True)
    benefit_application_id = models.CharField(max_length=30, blank=True, db_index=True, help_text="benappl-…")
    benefit_application_arn = models.CharField(max_length=300, blank=True)

    currency = models.CharField(max_length=3, default="USD")
    amount_requested = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    amount_approved = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    status = models.CharField(max_length=20, choices=BenefitStatus.choices, default=BenefitStatus.PENDING_SUBMISSION)
    status_reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True, help_text="When it was approved, rejected or canceled.")
    expires_on = models.DateField(null=True, blank=True, help_text="When the approved credits expire.")

    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "matching_creditapplication"  # the table it had in matching: the move changed no table
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "pool"], name="one_credit_application_per_pool"),
        ]

    def __str__(self) -> str:
        return f"{self.pool} for engagement #{self.engagement_id}: {self.get_status_display()}"

    @property
    def client_token(self) -> str:
        # Benefits caps ClientToken at 64 printable characters.
        return f"cr-benefit-{self.uuid.hex}"

    @property
    def files_through_api(self) -> bool:
        return bool(self.pool.partner_central_benefit_id)


class CreditApplicationStatusChange(models.Model):
    """One status move of a credit application, with who/where it came from and when."""

    application = models.ForeignKey(CreditApplication, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=BenefitStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=BenefitStatus.choices)
    reason = models.TextField(blank=True)
    source = models.CharField(max_length=20, choices=ChangeSource.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "matching_creditapplicationstatuschange"  # the table it had in matching: the move changed no table
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["to_status", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"
