"""Filing API serializers: an output serializer per record, and small input serializers for each
verb (edit the ACE draft, set the amount, record a move, submit); the staff pipeline's figures."""
from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .ace import ace_opportunity_problems
from .models import (
    AceOpportunity,
    AceReviewStatus,
    AceStage,
    AceStatusChange,
    BenefitStatus,
    CreditApplication,
    CreditApplicationStatusChange,
)
from .models.partner_central_choices import (
    ClosedLostReason,
    DeliveryModel,
    PrimaryNeed,
    SalesActivity,
)
MONEY = {"max_digits": 14, "decimal_places": 2}


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


# --- staff pipeline -------------------------------------------------------------------------------


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
