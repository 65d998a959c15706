"""Intake API serializers: the founder's submission (validated by the model's own validators)
and the status they see, which never carries partner notes or errors."""
from __future__ import annotations

import copy
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.inputs import find_bad_text
from matching.models import EngagementStatus
from matching.selectors import engagement_partner_contact

from .forms import IntakeForm, normalised_email
from .links import status_link_token, status_url
from .models import Intake
from .validators import validate_country_code


class CountryCodeField(serializers.CharField):
    """A two-letter code from intake.countries (the form's list, and the one ACE accepts), in any
    case. Anything else, "USA" included, is a 400 that says so; nothing is shortened to fit."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "ISO 3166-1 alpha-2 code, e.g. US, DE or IN (the list the form offers).")
        super().__init__(validators=[validate_country_code], **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(data).upper()


class IntakeInputSerializer(serializers.ModelSerializer):
    country = CountryCodeField()

    class Meta:
        model = Intake
        fields = IntakeForm.Meta.fields  # the public form and the API take the same fields
        extra_kwargs = {
            "total_raised_usd": {"required": False, "min_value": Decimal("0")},
            "prior_activate_credits_usd": {"required": False, "min_value": Decimal("0")},
            # Upper bounds come from the model's validators (intake.limits), as in the form.
        }

    # A ModelSerializer builds its fields from the model on every request, and a deep copy of them
    # costs nearly as much (the choices lists): together a sixth of a submission's CPU. They never
    # change, so the first set built is kept and each request binds its own shallow copies (binding
    # sets only the copy's own attributes; validators and choices are only read).
    _fields_built: dict | None = None

    def get_fields(self) -> dict:
        cls = type(self)
        if cls._fields_built is None:
            cls._fields_built = super().get_fields()
        return {name: copy.copy(field) for name, field in cls._fields_built.items()}

    def to_internal_value(self, data):
        # Text no field could store (NUL, unpaired surrogate) is refused before any field reads
        # it, so no error message ever repeats it.
        if isinstance(data, dict):
            errors = {}
            for name in self.fields:
                bad = find_bad_text(data.get(name), name)
                if bad is not None:
                    errors[name] = [f"This value {bad[1]}."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def validate_contact_email(self, value: str) -> str:
        return normalised_email(value)

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
    """What the founder's status link shows, from an intake as filing.selectors.intakes_for_founder_status()
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
