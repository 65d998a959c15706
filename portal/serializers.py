"""What the founder's status link shows (API), from the intake, its verdicts and its engagement:
never partner notes or errors. Above matching (the engagement, the partner's contact)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from intake.links import status_link_token, status_url
from intake.models import Intake
from matching.models import EngagementStatus
from matching.selectors import engagement_partner_contact


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
    headline = serializers.CharField(help_text='"you qualify", "eligible to apply" (competitive pools) or "not eligible".')
    next_step = serializers.CharField()
    apply_url = serializers.CharField(help_text="Where the founder applies, for self-serve and competitive pools.")
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


class FounderPartnerContactSerializer(serializers.Serializer):
    firm = serializers.CharField()
    person = serializers.CharField(help_text="Blank when the firm names no contact person.")
    email = serializers.CharField(help_text="Blank when the firm gives no address: it writes to the founder.")
    accepted = serializers.BooleanField(help_text="False while the firm has yet to accept the match.")


RECEIVED = "received"


class IntakeStatusSerializer(serializers.Serializer):
    """What the founder's status link shows, from an intake as matching.selectors.intakes_for_founder()
    reads it. Until a worker has evaluated the intake, status is "received" and there are no
    verdicts, partner or credits yet."""

    status_token = serializers.SerializerMethodField(help_text="Token for GET /api/intakes/status/{token}/.")
    status_url = serializers.SerializerMethodField(help_text="The private status page.")
    company_name = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    status = serializers.SerializerMethodField(
        help_text='"received" while eligibility and matching are being worked out (poll this link), '
        "then the engagement's status."
    )
    partner_name = serializers.SerializerMethodField()
    partner_contact = serializers.SerializerMethodField(
        help_text="The matched firm's contact; null until a firm holds the engagement."
    )
    estimated_credits_usd = serializers.DecimalField(
        source="engagement_or_none.estimated_credits_usd", max_digits=14, decimal_places=2, allow_null=True
    )
    verdicts = serializers.SerializerMethodField()
    ace_opportunity = serializers.SerializerMethodField()
    credit_applications = serializers.SerializerMethodField()

    # Read through a link, the answer names that same link (context "link_token"): reading the
    # status never mints a new link. A new intake gets a new one.
    def get_status_token(self, intake: Intake) -> str:
        return self.context.get("link_token") or status_link_token(intake)

    def get_status_url(self, intake: Intake) -> str:
        return status_url(intake, self.context.get("link_token"))

    @extend_schema_field(serializers.ChoiceField(choices=[RECEIVED, *EngagementStatus.values]))
    def get_status(self, intake: Intake) -> str:
        engagement = intake.engagement_or_none
        return engagement.status if engagement else RECEIVED

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_partner_name(self, intake: Intake) -> str | None:
        engagement = intake.engagement_or_none
        return engagement.partner.name if engagement and engagement.partner else None

    @extend_schema_field(FounderPartnerContactSerializer(allow_null=True))
    def get_partner_contact(self, intake: Intake):
        engagement = intake.engagement_or_none
        contact = engagement_partner_contact(engagement) if engagement else None
        return FounderPartnerContactSerializer(contact).data if contact else None

    @extend_schema_field(FounderVerdictSerializer(many=True))
    def get_verdicts(self, intake: Intake) -> list:
        return FounderVerdictSerializer(intake.verdicts.all(), many=True).data if intake.is_evaluated else []

    @extend_schema_field(FounderAceSerializer(allow_null=True))
    def get_ace_opportunity(self, intake: Intake):
        engagement = intake.engagement_or_none
        opportunity = getattr(engagement, "ace_opportunity", None)  # a missing one-to-one is None here
        return FounderAceSerializer(opportunity).data if opportunity else None

    @extend_schema_field(FounderCreditApplicationSerializer(many=True))
    def get_credit_applications(self, intake: Intake) -> list:
        engagement = intake.engagement_or_none
        return FounderCreditApplicationSerializer(engagement.credit_applications.all(), many=True).data if engagement else []


class StatusLinkRotatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    emailed_to = serializers.EmailField(help_text="Where the new link was mailed (the intake's contact).")
