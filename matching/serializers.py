"""Matching API serializers: an output serializer per record, and small input serializers for
each verb (accept, decline, edit the ACE draft, record a move, submit)."""
from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .filing import ace_opportunity_problems
from .models import (
    AceOpportunity,
    AceReviewStatus,
    AceStage,
    AceStatusChange,
    BenefitStatus,
    CreditApplication,
    CreditApplicationStatusChange,
    CreditPool,
    Engagement,
    EngagementStatusChange,
    Partner,
)
from .models.partner_central_choices import (
    ClosedLostReason,
    DeliveryModel,
    PrimaryNeed,
    SalesActivity,
)

MONEY = {"max_digits": 14, "decimal_places": 2}


# --- engagements ----------------------------------------------------------------------------------


class EngagementIntakeSerializer(serializers.Serializer):
    """What the partner needs to know about the startup (contact and workload)."""

    company_name = serializers.CharField()
    website = serializers.CharField()
    country = serializers.CharField()
    contact_name = serializers.CharField()
    contact_email = serializers.EmailField()
    stage = serializers.CharField()
    funding_kind = serializers.CharField()
    use_case = serializers.CharField()
    monthly_requests = serializers.IntegerField()
    avg_input_tokens = serializers.IntegerField()
    avg_output_tokens = serializers.IntegerField()
    models_of_interest = serializers.CharField()
    data_residency_region = serializers.CharField()
    submitted_at = serializers.DateTimeField()


class EngagementHistorySerializer(serializers.ModelSerializer):
    class Meta:
        model = EngagementStatusChange
        fields = ["from_status", "to_status", "reason", "changed_at"]


class EngagementSerializer(serializers.ModelSerializer):
    partner = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    partner_name = serializers.CharField(source="partner.name", read_only=True, allow_null=True, default=None)
    intake = EngagementIntakeSerializer(read_only=True)
    matched_pools = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    ace_opportunity = serializers.SerializerMethodField()
    history = EngagementHistorySerializer(many=True, read_only=True)

    class Meta:
        model = Engagement
        fields = [
            "id", "status", "partner", "partner_name", "intake", "matched_pools", "estimated_credits_usd",
            "ace_opportunity", "history", "created_at", "updated_at",
        ]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_ace_opportunity(self, engagement: Engagement) -> int | None:
        opportunity = getattr(engagement, "ace_opportunity", None)
        return opportunity.pk if opportunity else None


class EngagementDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


# --- ACE opportunity ------------------------------------------------------------------------------


class AceHistorySerializer(serializers.ModelSerializer):
    class Meta:
        model = AceStatusChange
        fields = ["field", "from_value", "to_value", "comment", "source", "changed_at"]


class AceOpportunitySerializer(serializers.ModelSerializer):
    problems = serializers.SerializerMethodField(help_text="What Partner Central would refuse, per field.")
    history = AceHistorySerializer(many=True, read_only=True)

    class Meta:
        model = AceOpportunity
        exclude = ["uuid"]

    @extend_schema_field(serializers.DictField(child=serializers.ListField(child=serializers.CharField())))
    def get_problems(self, opportunity: AceOpportunity) -> dict[str, list[str]]:
        problems: dict[str, list[str]] = {}
        for problem in ace_opportunity_problems(opportunity):
            problems.setdefault(problem.field, []).append(problem.message)
        return problems


class AceOpportunityUpdateSerializer(serializers.ModelSerializer):
    """The draft's Partner Central fields a partner may edit while it is pending or action required."""

    delivery_models = serializers.ListField(child=serializers.ChoiceField(DeliveryModel.choices), required=False)
    primary_needs = serializers.ListField(child=serializers.ChoiceField(PrimaryNeed.choices), required=False)
    sales_activities = serializers.ListField(child=serializers.ChoiceField(SalesActivity.choices), required=False)

    class Meta:
        model = AceOpportunity
        fields = [
            "company_name", "website_url", "industry", "other_industry", "country_code", "postal_code",
            "aws_account_id", "contact_first_name", "contact_last_name", "contact_email", "contact_phone",
            "contact_title", "title", "customer_business_problem", "customer_use_case", "delivery_models",
            "primary_needs", "sales_activities", "competitor_name", "other_competitor_names",
            "expected_monthly_spend", "target_close_date", "additional_comments", "origin", "opportunity_type",
            "involvement_type", "visibility", "next_steps",
        ]
        extra_kwargs = {
            "expected_monthly_spend": {"min_value": Decimal("0")},
            "customer_business_problem": {"max_length": 2000},
        }


class AceSubmitSerializer(serializers.Serializer):
    partner_central_id = serializers.RegexField(
        r"^O[0-9]{1,19}$", required=False, allow_blank=True,
        help_text="When filed by hand in Partner Central: its opportunity id, e.g. O1234567.",
    )


class AceRecordSerializer(serializers.Serializer):
    """A stage or review-status move recorded by hand (allowed moves are enforced)."""

    stage = serializers.ChoiceField(AceStage.choices, required=False)
    review_status = serializers.ChoiceField(AceReviewStatus.choices, required=False)
    closed_lost_reason = serializers.ChoiceField(ClosedLostReason.choices, required=False)
    review_comments = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    partner_central_id = serializers.RegexField(r"^O[0-9]{1,19}$", required=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError("Send at least one of the fields to record.")
        return attrs


# --- credit applications --------------------------------------------------------------------------


class CreditApplicationHistorySerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditApplicationStatusChange
        fields = ["from_status", "to_status", "reason", "source", "changed_at"]


class CreditApplicationSerializer(serializers.ModelSerializer):
    pool = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    pool_name = serializers.CharField(source="pool.name", read_only=True)
    history = CreditApplicationHistorySerializer(many=True, read_only=True)

    class Meta:
        model = CreditApplication
        exclude = ["uuid"]


class CreditApplicationUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditApplication
        fields = ["amount_requested"]
        extra_kwargs = {"amount_requested": {"min_value": Decimal("0.01")}}


class CreditApplicationRecordSerializer(serializers.Serializer):
    """A status move recorded by hand; an approval carries the approved amount."""

    status = serializers.ChoiceField(BenefitStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    amount_approved = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False
    )
    expires_on = serializers.DateField(required=False)


# --- staff ----------------------------------------------------------------------------------------


class PoolSerializer(serializers.ModelSerializer):
    rules = serializers.SerializerMethodField()
    current_rule_version = serializers.SerializerMethodField()

    class Meta:
        model = CreditPool
        fields = [
            "id", "slug", "name", "description", "filing_route", "route_note", "amount_min_usd", "amount_max_usd",
            "typical_amount_usd", "is_active", "position", "partner_central_benefit_id", "rules",
            "current_rule_version",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_rules(self, pool: CreditPool) -> list[dict]:
        return [{"kind": r.kind, "params": r.params, "position": r.position} for r in pool.rules.all()]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_current_rule_version(self, pool: CreditPool) -> int | None:
        versions = [v.version for v in pool.rule_versions.all()]
        return max(versions) if versions else None


class PartnerSerializer(serializers.ModelSerializer):
    open_engagements = serializers.IntegerField(read_only=True, help_text="Engagements occupying a slot.")

    class Meta:
        model = Partner
        fields = [
            "id", "name", "contact_name", "contact_email", "is_vetted", "is_active", "specialties", "regions",
            "languages", "capacity", "open_engagements", "commission_rate",
        ]


class FunnelStageSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    share_of_intakes = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    conversion = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)


class LabelledAmountSerializer(serializers.Serializer):
    label = serializers.CharField()
    amount = serializers.DecimalField(**MONEY, allow_null=True)


class PartnerFiguresSerializer(serializers.Serializer):
    partner_id = serializers.IntegerField()
    name = serializers.CharField()
    engagements = serializers.IntegerField(help_text="Engagements offered to the firm (matched with it at least once).")
    accepted = serializers.IntegerField()
    declined = serializers.IntegerField()
    awaiting = serializers.IntegerField(help_text="Still matched with the firm, not yet answered.")
    acceptance_rate = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True,
                                               help_text="Percent of the answered offers that were accepted.")
    median_hours_to_accept = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    credits_approved_usd = serializers.DecimalField(**MONEY)
    commission_usd = serializers.DecimalField(**MONEY)


class QueuedEngagementSerializer(serializers.Serializer):
    engagement_id = serializers.IntegerField()
    company_name = serializers.CharField()
    country = serializers.CharField()
    status = serializers.CharField()
    waiting_since = serializers.DateTimeField()


class UnmatchedQueueSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    oldest = QueuedEngagementSerializer(many=True, help_text="The longest-waiting first.")


class PipelineSerializer(serializers.Serializer):
    funnel = FunnelStageSerializer(many=True)
    median_days = LabelledAmountSerializer(many=True, help_text="Median days spent in each stage.")
    commission_by_status = LabelledAmountSerializer(many=True)
    commission_by_partner = LabelledAmountSerializer(many=True)
    partners = PartnerFiguresSerializer(many=True)
    unmatched_queue = UnmatchedQueueSerializer(help_text="Engagements waiting for staff, whatever the filters.")


class PipelineFilterSerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, help_text="Intakes submitted on or after.")
    date_to = serializers.DateField(required=False, help_text="Intakes submitted on or before.")
    partner = serializers.IntegerField(required=False, min_value=1)
    pool = serializers.IntegerField(required=False, min_value=1)
