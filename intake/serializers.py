"""The intake API's input: the founder's submission, validated by the model's own validators. What
the founder's status link answers is portal.serializers."""
from __future__ import annotations

import copy
from decimal import Decimal

from rest_framework import serializers

from core.inputs import find_bad_text

from .forms import IntakeForm, normalised_email
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
