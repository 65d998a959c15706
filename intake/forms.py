"""The public intake form. Validation lives on the model (shared with the API); this adds labels,
widgets and input tidying."""
import json
import secrets
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from core.inputs import email_address_text, find_bad_text

from .countries import country_choices
from .models import INVESTOR_REQUIRED_IF, Intake
from .validators import validate_aws_account_id, validate_country_code


def _country_select_choices():
    return [("", "Choose a country"), *country_choices()]


class CountrySelect(forms.Select):
    def format_value(self, value):
        # A code posted in lower case is shown chosen when the form comes back with errors.
        return [v.strip().upper() for v in super().format_value(value)]


class CountryField(forms.ChoiceField):
    """A select of intake.countries (the list ACE accepts); a posted code is matched in any case."""

    def __init__(self, **kwargs):
        super().__init__(choices=_country_select_choices, **kwargs)

    def to_python(self, value):
        return (super().to_python(value) or "").strip().upper()

    def validate(self, value):
        # Only "is it there"; which codes exist is validate_country_code's word, as on the API.
        forms.Field.validate(self, value)


def country_formfield(db_field, **kwargs) -> CountryField:
    """The country select for a model's country-code column (the intake's and the ACE
    opportunity's admin forms)."""
    return CountryField(label=kwargs.pop("label", "Country"), required=not db_field.blank,
                        validators=[validate_country_code], help_text=db_field.help_text, **kwargs)


class AwsAccountIdField(forms.CharField):
    """Accepts the id as the console shows it (with dashes or spaces) and keeps the 12 digits."""

    def to_python(self, value):
        return "".join((super().to_python(value) or "").split()).replace("-", "")


class IntakeForm(forms.ModelForm):
    # Rendered once per blank form; a resubmission of the same page carries the same key.
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    country = CountryField(
        label="Country",
        validators=[validate_country_code],
        help_text="Where the company is registered.",
        widget=CountrySelect(attrs={"autocomplete": "country"}),
    )
    website = forms.URLField(
        label="Company website",
        required=False,
        assume_scheme="https",
        max_length=200,
        help_text="Or a public profile page.",
    )
    aws_account_id = AwsAccountIdField(
        label="AWS account id",
        required=False,
        max_length=20,
        validators=[validate_aws_account_id],
        help_text="12 digits, found in the AWS console's account menu. Some credit pools (AWS Activate) need one; "
                  "without it they say how to get one.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "123456789012"}),
    )

    class Meta:
        model = Intake
        fields = [
            "company_name", "website", "country", "founded_on",
            "contact_name", "contact_email",
            "stage", "total_raised_usd", "funding_kind", "investor_name", "investor_is_activate_provider",
            "prior_activate_credits_usd",
            "use_case", "monthly_requests", "avg_input_tokens", "avg_output_tokens", "models_of_interest",
            "needs_fine_tuning", "needs_open_weights", "data_residency_region",
            "aws_account_id",
        ]
        labels = {
            "company_name": "Company name",
            "founded_on": "Founding date",
            "contact_name": "Your name",
            "contact_email": "Your email",
            "stage": "Stage",
            "total_raised_usd": "Total raised so far (USD)",
            "funding_kind": "Kind of funding",
            "investor_name": "Lead investor or accelerator",
            "investor_is_activate_provider": "That investor or accelerator is an AWS Activate Provider",
            "prior_activate_credits_usd": "AWS Activate credits already received (USD)",
            "use_case": "Main use case",
            "monthly_requests": "Expected model requests per month",
            "avg_input_tokens": "Average input tokens per request",
            "avg_output_tokens": "Average output tokens per request",
            "models_of_interest": "Models you are considering",
            "needs_fine_tuning": "We need fine-tuning",
            "needs_open_weights": "We need open weights or self-hosting",
            "data_residency_region": "Data must stay in region",
        }
        help_texts = {
            "investor_name": (
                "Required for Institutional VC or Accelerator funding, and when it is an AWS Activate Provider."
            ),
            "models_of_interest": "For example: Claude Sonnet, Llama 3.3 70B.",
            "data_residency_region": "Leave on 'No preference' if any region works.",
        }
        widgets = {
            "founded_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        region = self.fields["data_residency_region"]
        region.choices = [("", "No preference")] + [c for c in region.choices if c[0]]
        for name in ("total_raised_usd", "prior_activate_credits_usd"):
            self.fields[name].required = False  # blank means none
        self._mark_conditionally_required("investor_name", INVESTOR_REQUIRED_IF)

    def _mark_conditionally_required(self, name: str, conditions: dict[str, tuple[str, ...]]) -> None:
        """A field the model requires only for some answers to others ({other field: the answers
        that make it required; True for a ticked checkbox}): the label says "(required)" while any
        of them holds, as submitted, so it is right without JavaScript too; static/intake-form.js
        keeps it so as the founder changes the answers."""
        field = self.fields[name]
        field.required_when = True
        rules, required = [], False
        for other, answers in conditions.items():
            bound = self[other]
            value = bound.value() if self.is_bound else self.initial.get(other)
            if isinstance(bound.field.widget, forms.CheckboxInput):
                rules.append({"field": bound.auto_id, "checked": True})
                required = required or bool(value)
            else:
                rules.append({"field": bound.auto_id, "values": [str(a) for a in answers]})
                required = required or value in answers
        field.required_now = required
        field.widget.attrs["data-required-if"] = json.dumps(rules)
        if required:
            field.widget.attrs["aria-required"] = "true"

    def error_summary(self) -> list[dict]:
        """The errors in page order, each with the id of the control it belongs to (none for the
        form's own errors), for the summary at the top of the page."""
        rows = [{"anchor": None, "label": None, "message": message} for message in self.non_field_errors()]
        for bound in self:
            if bound.errors and not bound.is_hidden:
                for message in bound.errors:
                    rows.append({"anchor": bound.id_for_label, "label": bound.label, "message": message})
            elif bound.errors:
                rows.extend({"anchor": None, "label": None, "message": m} for m in bound.errors)
        return rows

    def full_clean(self):
        super().full_clean()
        if not self.is_bound:
            return
        # Text no field could store (NUL, unpaired surrogate) gets one error that does not repeat
        # it, in place of whatever the field said (a choice field would echo the value).
        for name in self.fields:
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data.get(name)]
            bad = find_bad_text(values, name)
            if bad is not None:
                self._errors[name] = self.error_class([f"This value {bad[1]}."])
                self.cleaned_data.pop(name, None)

    def clean_contact_email(self):
        return normalised_email(self.cleaned_data.get("contact_email") or "")

    def clean_total_raised_usd(self):
        return self.cleaned_data.get("total_raised_usd") or Decimal("0")

    def clean_prior_activate_credits_usd(self):
        return self.cleaned_data.get("prior_activate_credits_usd") or Decimal("0")


def normalised_email(value: str) -> str:
    """The address as stored (core.inputs.email_address_text: trimmed, NFKC, lower-cased), and
    still within the column (lower-casing a few letters, e.g. "İ", makes the text longer)."""
    email = email_address_text(value)
    limit = Intake._meta.get_field("contact_email").max_length
    if len(email) > limit:
        raise ValidationError(f"Use an email address of at most {limit} characters.", code="max_length")
    return email


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)
