"""Intake API serializers: the founder's submission (validated by the model's own validators)
and the status they see, which never carries partner notes or errors."""
from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from matching.models import Engagement

from .forms import IntakeForm
from .links import status_link_token, status_url
from .models import Intake


class IntakeInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Intake
        fields = IntakeForm.Meta.fields  # the public form and the API take the same fields
        extra_kwargs = {
            "total_raised_usd": {"required": False, "min_value": Decimal("0")},
            "prior_activate_credits_usd": {"required": False, "min_value": Decimal("0")},
            "monthly_requests": {"max_value": 2_147_483_647},
            "avg_input_tokens": {"max_value": 2_147_483_647},
            "avg_output_tokens": {"max_value": 2_147_483_647},
        }

    def validate_country(self, value: str) -> str:
        return value.strip().upper()

    def validate(self, attrs: dict) -> dict:
        # The model's cross-field rules (investor named when VC-funded, …), per field.
        Intake(**attrs).clean()
        return attrs


class ReasonSerializer(serializers.Serializer):
    rule = serializers.CharField()
    passed = serializers.BooleanField()
    text = serializers.CharField()


class FounderVerdictSerializer(serializers.Serializer):
    pool = serializers.CharField(source="pool.slug")
    pool_name = serializers.CharField(source="pool.name")
    eligible = serializers.BooleanField(source="is_eligible")
    estimated_amount_usd = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount_max_usd = serializers.DecimalField(source="pool.amount_max_usd", max_digits=12, decimal_places=2)
    route = serializers.CharField()
    route_reason = serializers.CharField()
    rule_version = serializers.IntegerField(source="rule_version.version")
    reasons = ReasonSerializer(many=True)


class FounderCreditApplicationSerializer(serializers.Serializer):
    pool_name = serializers.CharField(source="pool.name")
    status = serializers.CharField()
    amount_approved = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    expires_on = serializers.DateField(allow_null=True)


class FounderAceSerializer(serializers.Serializer):
    review_status = serializers.CharField()
    stage = serializers.CharField()


class IntakeStatusSerializer(serializers.Serializer):
    """What the founder's status link shows, from engagement_for_founder()."""

    status_token = serializers.SerializerMethodField(help_text="Token for GET /api/intakes/status/{token}/.")
    status_url = serializers.SerializerMethodField(help_text="The private status page.")
    company_name = serializers.CharField(source="intake.company_name")
    submitted_at = serializers.DateTimeField(source="intake.submitted_at")
    status = serializers.CharField()
    partner_name = serializers.CharField(source="partner.name", allow_null=True, default=None)
    estimated_credits_usd = serializers.DecimalField(max_digits=14, decimal_places=2)
    verdicts = FounderVerdictSerializer(source="intake.verdicts", many=True)
    ace_opportunity = serializers.SerializerMethodField()
    credit_applications = FounderCreditApplicationSerializer(many=True)

    def get_status_token(self, engagement: Engagement) -> str:
        return status_link_token(engagement.intake)

    def get_status_url(self, engagement: Engagement) -> str:
        return status_url(engagement.intake)

    @extend_schema_field(FounderAceSerializer(allow_null=True))
    def get_ace_opportunity(self, engagement: Engagement):
        opportunity = getattr(engagement, "ace_opportunity", None)  # a missing one-to-one is None here
        return FounderAceSerializer(opportunity).data if opportunity else None
