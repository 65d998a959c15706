"""Forms for the partner's bake-off pages: upload an eval set, pick models and settings."""
from decimal import Decimal

from django import forms
from django.conf import settings

from matching.roles import access_of
from matching.selectors import engagements_visible_to
from matching.templatetags.money import plain_price

from . import estimates, services
from .model_data import lifecycle_note
from .picker import gpu_text
from .catalog_models import CatalogKind, CatalogModel
from .selectors import eval_sets_visible_to

UPLOAD_ENGAGEMENT_STATUSES = ("accepted", "in_progress")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
FILE_HELP = ("JSONL (one object a line) or CSV with a header. Columns: prompt, expected, scorer "
             "(exact, contains, regex, json_valid, json_schema, numeric, label, llm_judge), and optionally "
             "system_prompt, category, scorer_options.")


class EvalSetUploadForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="A name your team will recognise, e.g. “Support triage, Nov”.")
    engagement = forms.ModelChoiceField(queryset=None, required=False, empty_label="Not tied to an engagement",
                                        help_text="The startup whose prompts these are; its workload prices the report.")
    file = forms.FileField(label="Eval set file", help_text=FILE_HELP)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        engagements = engagements_visible_to(user)
        self.fields["engagement"].queryset = engagements.filter(status__in=UPLOAD_ENGAGEMENT_STATUSES)
        # The firm's matches not accepted yet: why they are not offered (a partner's own only).
        self.waiting_engagements = (list(engagements.filter(status="matched")[:10]) if access_of(user).is_partner
                                    else [])
        self.fields["engagement"].help_text = self._engagement_help()

    def _engagement_help(self) -> str:
        if not self.fields["engagement"].queryset.exists():
            why = ("An eval set can be tied only to an engagement your firm has accepted, and there is none yet"
                   + (f" ({len(self.waiting_engagements)} waiting for you to accept)" if self.waiting_engagements
                      else "") + ". Until then it is not tied to an engagement: the report compares the models "
                   "but has no founder workload to price, and no credit runway.")
            return why
        return ("The startup whose prompts these are; its workload prices the report and its matched credits give "
                "the runway. Not tied to an engagement: no monthly cost or runway in the report. Only accepted "
                "engagements are listed.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 20 MB; split it into smaller eval sets.")
        if not upload.name.lower().endswith((".jsonl", ".json", ".csv")):
            raise forms.ValidationError("Upload a .jsonl or .csv file.")
        return upload


def _per_1m(prices: dict) -> str:
    return f"{plain_price(prices['input_per_1m'])} / {plain_price(prices['output_per_1m'])} per 1M tokens"


def model_picker_choices(user=None) -> list[tuple[str, str]]:
    """Every model a new run may use, at the prices of the id it is called through; legacy models
    say their end-of-life date; a global. profile (listed rate) is a choice of its own. A self-hosted
    entry shows its GPUs and their hourly price. With a user: only the entries that login may see."""
    choices = []
    catalog = CatalogModel.objects.offered() if user is None else CatalogModel.objects.visible_to(user).offered()
    for model in catalog.select_related("self_hosted").prefetch_related("profiles"):
        if model.kind == CatalogKind.SELF_HOSTED:
            choices.append((str(model.pk), f"{model.name} — self-hosted, {gpu_text(model)}"))
            continue
        note = lifecycle_note(model.lifecycle_on())
        label = (f"{model.name} — {_per_1m(model.invoked_prices())} ({model.get_weights_display().lower()})"
                 + (f" — {note}" if note else ""))
        choices.append((str(model.pk), label))
        for invoked_id in model.invocable_ids()[1:]:
            choices.append((invoked_id, f"↳ through the global profile {invoked_id}, at the listed rate — "
                                        f"{_per_1m(model.invoked_prices(invoked_id))}"))
    return choices


class ModelChoices(forms.MultipleChoiceField):
    """Offered models by catalog id, a global. profile by its id. A model that is no longer offered
    gets a message naming it and why (end of life, withdrawn), not a bare "invalid choice".
    Another firm's own entries are looked up as if they did not exist."""

    visible = None  # the catalog entries the login may use (set by the form)
    partner_id = None  # the login's firm, None for staff

    def valid_value(self, value) -> bool:
        return True  # clean() resolves every value against the catalog and says what is wrong

    def clean(self, value):
        values = super().clean(value)
        keys = []
        for item in values:
            text = str(item).strip()
            if text.isdigit():
                model = (self.visible if self.visible is not None else CatalogModel.objects).filter(
                    pk=int(text)).first()
                if model is None:
                    raise forms.ValidationError(f"No catalog model with id {text}.")
                keys.append(model)
            else:
                keys.append(text)
        try:
            chosen = services.resolve_models(
                keys, partner_id=services.ANY_FIRM if self.partner_id is None else self.partner_id)
            services.refuse_unoffered(chosen)
        except services.BakeoffError as exc:
            raise forms.ValidationError(str(exc)) from None
        return chosen


class LaunchForm(forms.Form):
    eval_set = forms.ModelChoiceField(queryset=None, empty_label=None)
    models = ModelChoices(widget=forms.CheckboxSelectMultiple, help_text="Pick two or more.")
    max_tokens = forms.IntegerField(label="Max output tokens per answer", min_value=16, max_value=8192, initial=512)
    temperature = forms.DecimalField(min_value=Decimal("0"), max_value=Decimal("1"), decimal_places=2,
                                     initial=Decimal("0"), help_text="0 gives the most repeatable answers.")

    batch = forms.BooleanField(
        required=False, label="Run as Bedrock batch jobs (about half the price; answers in hours, not minutes)")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["eval_set"].queryset = eval_sets_visible_to(user)
        self.user = user
        self.fields["models"].choices = model_picker_choices(user)
        self.fields["models"].visible = CatalogModel.objects.visible_to(user)
        self.fields["models"].partner_id = access_of(user).partner_id
        self.fields["batch"].help_text = (
            f"Offered when every chosen model supports batch inference and the eval set has at least "
            f"{settings.BAKEOFF_BATCH_MIN_RECORDS} cases (Bedrock's minimum per batch job).")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("batch") and cleaned.get("models") and cleaned.get("eval_set"):
            refusal = estimates.batch_refusal(models=cleaned["models"], case_count=cleaned["eval_set"].cases.count())
            if refusal:
                self.add_error("batch", refusal)
        return cleaned

    def clean_models(self):
        models = self.cleaned_data["models"]
        if len({m.pk for m in models}) != len(models):
            raise forms.ValidationError("Pick each model once (its default id or its global profile).")
        if len(models) < 2:
            raise forms.ValidationError("Pick at least two models to compare.")
        return models
