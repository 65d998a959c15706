"""Forms for the partner's bake-off pages: upload an eval set, pick models and settings."""
from decimal import Decimal

from django import forms

from matching.selectors import engagements_visible_to

from .models import CatalogModel
from .selectors import eval_sets_visible_to

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
FILE_HELP = ("JSONL (one object a line) or CSV with a header. Columns: prompt, expected, scorer "
             "(exact, contains, regex, json_valid, json_schema, numeric, label, llm_judge), and optionally "
             "system_prompt, category, scorer_options.")


class EvalSetUploadForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="A name your team will recognise, e.g. “Support triage, Nov”.")
    engagement = forms.ModelChoiceField(queryset=None, required=False, empty_label="(not tied to an engagement)",
                                        help_text="The startup whose prompts these are; its workload prices the report.")
    file = forms.FileField(label="Eval set file", help_text=FILE_HELP)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = engagements_visible_to(user).filter(
            status__in=("accepted", "in_progress"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 20 MB; split it into smaller eval sets.")
        if not upload.name.lower().endswith((".jsonl", ".json", ".csv")):
            raise forms.ValidationError("Upload a .jsonl or .csv file.")
        return upload


class ModelChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, model: CatalogModel) -> str:
        return (f"{model.name} — ${model.input_per_1m} in / ${model.output_per_1m} out per 1M tokens"
                f" ({model.get_weights_display().lower()})")


class LaunchForm(forms.Form):
    eval_set = forms.ModelChoiceField(queryset=None, empty_label=None)
    models = ModelChoices(queryset=CatalogModel.objects.filter(is_active=True),
                          widget=forms.CheckboxSelectMultiple, help_text="Pick two or more.")
    max_tokens = forms.IntegerField(label="Max output tokens per answer", min_value=16, max_value=8192, initial=512)
    temperature = forms.DecimalField(min_value=Decimal("0"), max_value=Decimal("1"), decimal_places=2,
                                     initial=Decimal("0"), help_text="0 gives the most repeatable answers.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["eval_set"].queryset = eval_sets_visible_to(user)

    def clean_models(self):
        models = self.cleaned_data["models"]
        if len(models) < 2:
            raise forms.ValidationError("Pick at least two models to compare.")
        return models
