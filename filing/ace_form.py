"""The ACE draft as a guided form for the partner's workspace: Partner Central's choices as selects
and checkboxes, each value checked as Partner Central checks it, and the readiness checklist that
links every missing or invalid field to its place on the form."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.utils import timezone

from intake.countries import country_choices

from . import ace, partner_central
from .models import AceOpportunity
from .models.partner_central_choices import CompetitorName, DeliveryModel, Industry, PrimaryNeed, SalesActivity

# Partner Central's documented Project.CustomerUseCase values (a free string in the API model);
# the ones a generative-AI startup's project falls under.
CUSTOMER_USE_CASES = [
    "AI Machine Learning and Analytics",
    "Big Data: Data Warehouse/Data Integration/ETL/Data Lake/BI",
    "Business Applications & Contact Center",
    "Containers & Serverless",
    "Database",
    "Migration/Database Migration",
    "Monitoring, logging and performance",
    "Security & Compliance",
    "Storage & Backup",
    "Web development & DevOps",
]
US_POSTAL_CODE = re.compile(r"\d{5}(-\d{4})?")

SECTIONS = [
    ("Customer", ["company_name", "website_url", "industry", "other_industry", "country_code", "postal_code",
                  "aws_account_id"]),
    ("Customer contact", ["contact_first_name", "contact_last_name", "contact_email", "contact_phone",
                          "contact_title"]),
    ("Project", ["title", "customer_business_problem", "customer_use_case", "delivery_models", "primary_needs",
                 "sales_activities", "competitor_name", "other_competitor_names", "expected_monthly_spend",
                 "target_close_date", "next_steps", "additional_comments"]),
    ("How it is filed", ["involvement_type", "opportunity_type", "origin", "visibility"]),
]
MULTI_FIELDS = ("delivery_models", "primary_needs", "sales_activities")
# What Partner Central asks of each field before it takes the opportunity (shown next to the label;
# a draft may be saved without them, the readiness checklist says what is still missing).
ACE_NEEDS = {
    "company_name": "required", "website_url": "required", "industry": "required", "country_code": "required",
    "title": "required", "customer_business_problem": "required", "customer_use_case": "required",
    "delivery_models": "required", "sales_activities": "required", "expected_monthly_spend": "required",
    "target_close_date": "required", "postal_code": "required for US customers",
    "primary_needs": "required for Co-Sell", "other_industry": "required when the industry is Other",
    "other_competitor_names": "required when the competitor is *Other",
}

# The readiness check's field names (ace.ace_opportunity_problems) -> the form's fields.
PROBLEM_FIELDS = {
    "company name": "company_name", "website": "website_url", "industry": "industry",
    "other industry": "other_industry", "country": "country_code", "postal code": "postal_code",
    "AWS account id": "aws_account_id", "contact email": "contact_email", "contact phone": "contact_phone",
    "project title": "title", "customer business problem": "customer_business_problem",
    "customer use case": "customer_use_case", "delivery models": "delivery_models",
    "sales activities": "sales_activities", "primary needs from AWS": "primary_needs",
    "competitor": "competitor_name", "other competitors": "other_competitor_names",
    "expected monthly AWS spend": "expected_monthly_spend", "target close date": "target_close_date",
}


def field_anchor(name: str) -> str:
    """The id a checklist link jumps to: the input itself, or a checkbox group's fieldset."""
    return f"field-{name}" if name in MULTI_FIELDS else f"id_{name}"


@dataclass(frozen=True)
class ReadinessItem:
    field: str  # the form field, "" when the problem is not the partner's to fix here
    label: str
    message: str

    @property
    def anchor(self) -> str:
        return field_anchor(self.field) if self.field else ""


def ace_readiness(opportunity: AceOpportunity) -> list[ReadinessItem]:
    """What Partner Central would still refuse, one item per field, each pointing at its field."""
    return [ReadinessItem(PROBLEM_FIELDS.get(p.field, ""), p.field[:1].upper() + p.field[1:], p.message)
            for p in ace.ace_opportunity_problems(opportunity)]


def _country_choices() -> list[tuple[str, str]]:
    """The intake form's one country list (Partner Central's CountryCode values), with the code shown."""
    return [("", "Choose a country")] + [(code, f"{name} ({code})") for code, name in country_choices()]


def _pattern_ok(shape: str, value: str) -> bool:
    pattern = partner_central.shape_pattern(shape)
    return pattern is None or pattern.fullmatch(value) is not None


class AceDraftForm(forms.ModelForm):
    """Every field ACE asks for. A draft may be saved incomplete (the checklist says what is
    missing); a value that is given must be one Partner Central accepts."""

    country_code = forms.ChoiceField(label="Country", choices=())
    customer_use_case = forms.ChoiceField(label="Customer use case", choices=(), required=False)
    delivery_models = forms.MultipleChoiceField(
        label="Delivery models", choices=DeliveryModel.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text="How your firm delivers the project. At least one.")
    primary_needs = forms.MultipleChoiceField(
        label="Primary needs from AWS", choices=PrimaryNeed.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text="At least one for a Co-Sell opportunity.")
    sales_activities = forms.MultipleChoiceField(
        label="Sales activities so far", choices=SalesActivity.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text="At least one.")

    class Meta:
        model = AceOpportunity
        fields = [name for _, names in SECTIONS for name in names]
        labels = {
            "website_url": "Website", "industry": "Industry", "other_industry": "Other industry",
            "postal_code": "Postal code", "aws_account_id": "Customer's AWS account id",
            "contact_first_name": "First name", "contact_last_name": "Last name", "contact_email": "Email",
            "contact_phone": "Phone", "contact_title": "Job title", "title": "Project title",
            "customer_business_problem": "Customer business problem", "competitor_name": "Competitor",
            "other_competitor_names": "Other competitors",
            "expected_monthly_spend": "Expected monthly AWS spend (USD)", "target_close_date": "Target close date",
        }
        help_texts = {
            "other_industry": "",
            "postal_code": "Partner Central requires it for customers in the United States (5 digits, or ZIP+4). "
                           "The intake does not ask the founder for it.",
            "customer_business_problem": "20 to 2,000 characters: what the customer needs solved, in their words.",
            "contact_phone": "International form, e.g. +14155550100.",
            "aws_account_id": "12 digits, when the startup already has an account.",
            "expected_monthly_spend": "Drafted from the founder's workload; correct it to what you expect.",
        }
        widgets = {
            "customer_business_problem": forms.Textarea(attrs={"rows": 4}),
            "target_close_date": forms.DateInput(attrs={"type": "date"}),
            "additional_comments": forms.TextInput(),
            "next_steps": forms.TextInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country_code"].choices = _country_choices()
        use_cases = list(CUSTOMER_USE_CASES)
        current = (self.instance.customer_use_case or "").strip()
        if current and current not in use_cases:
            use_cases.append(current)  # a value filed elsewhere stays choosable
        self.fields["customer_use_case"].choices = [("", "Choose a use case")] + [(u, u) for u in use_cases]
        self.fields["industry"].choices = [("", "Choose an industry")] + list(Industry.choices)
        self.fields["competitor_name"].choices = [("", "None named")] + list(CompetitorName.choices)
        self.fields["customer_business_problem"].max_length = 2000

    def sections(self):
        """(title, [(bound field, what Partner Central asks of it or "optional")]) per fieldset."""
        return [(title, [(self[name], ACE_NEEDS.get(name, "optional")) for name in names]) for title, names in SECTIONS]

    def _strip(self, name: str) -> str:
        return (self.cleaned_data.get(name) or "").strip()

    def clean_website_url(self):
        value = self._strip("website_url")
        if value and not _pattern_ok("WebsiteUrl", value):
            raise forms.ValidationError("Give the website as 4 to 255 characters, e.g. https://example.com.")
        return value

    def clean_aws_account_id(self):
        value = self._strip("aws_account_id")
        if value and not re.fullmatch(r"\d{12}", value):
            raise forms.ValidationError("An AWS account id is 12 digits.")
        return value

    def clean_contact_email(self):
        value = self._strip("contact_email").lower()
        if value and not _pattern_ok("Email", value):
            raise forms.ValidationError("Partner Central does not accept this address (at most 80 characters).")
        return value

    def clean_contact_phone(self):
        value = re.sub(r"[\s().-]", "", self._strip("contact_phone"))
        if value and not re.fullmatch(r"\+[1-9]\d{1,14}", value):
            raise forms.ValidationError("Give the phone in international form, e.g. +14155550100.")
        return value

    def clean_customer_business_problem(self):
        value = self._strip("customer_business_problem")
        if value and not 20 <= len(value) <= 2000:
            raise forms.ValidationError(f"Write 20 to 2,000 characters (now {len(value):,}).")
        return value

    def clean_expected_monthly_spend(self):
        value = self.cleaned_data.get("expected_monthly_spend")
        if value is None:
            return Decimal("0")
        if value < 0:
            raise forms.ValidationError("The expected spend cannot be negative.")
        return value

    def clean_target_close_date(self):
        value: dt.date | None = self.cleaned_data.get("target_close_date")
        if value and value < timezone.localdate():
            raise forms.ValidationError("The target close date must not be in the past.")
        return value

    def clean(self):
        data = super().clean()
        country, postal = data.get("country_code"), self._strip("postal_code")
        if postal and country == "US" and not US_POSTAL_CODE.fullmatch(postal):
            self.add_error("postal_code", "A US postal code is 5 digits, or ZIP+4 (12345-6789).")
        if data.get("industry") == Industry.OTHER and not self._strip("other_industry"):
            self.add_error("other_industry", "Name the industry when you choose Other.")
        if data.get("competitor_name") == CompetitorName.OTHER and not self._strip("other_competitor_names"):
            self.add_error("other_competitor_names", "Name the competitors when you choose *Other.")
        data["postal_code"] = postal
        return data
