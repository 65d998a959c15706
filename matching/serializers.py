"""Matching API serializers: an output serializer per record, and small input serializers for
each verb (accept, decline); the filings' are in filing.serializers."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import (
    CreditPool,
    Engagement,
    EngagementStatusChange,
    Partner,
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
