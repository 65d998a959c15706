"""Admin for self-hosted entries: staff manage the ones offered to every firm; a partner firm
registers its own, which only it sees (another firm's id is a 404, as a missing one). The API key
is write-only: the form says whether one is set, and may replace or clear it."""
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from matching.admin_scoping import PartnerScopedAdminMixin
from matching.roles import access_of

from . import selfhosted
from .hosting import GpuHosting, SelfHostedEndpoint
from .catalog_models import CatalogKind, CatalogModel, SelfHostedEntry

ENDPOINT_FIELDS = ("base_url", "served_model_name", "gpu_type", "gpu_count", "gpu_hour_price", "hosting",
                   "api_key_env")


class SelfHostedEntryForm(forms.ModelForm):
    base_url = forms.CharField(max_length=300, help_text="OpenAI-compatible base URL, e.g. http://gpu-box:8000/v1")
    served_model_name = forms.CharField(max_length=200, help_text="The `model` the server expects in a request.")
    gpu_type = forms.CharField(max_length=60, help_text="e.g. NVIDIA L4, A10G, H100.")
    gpu_count = forms.IntegerField(min_value=1, max_value=selfhosted.MAX_GPUS, initial=1)
    gpu_hour_price = forms.DecimalField(min_value=0, max_digits=12, decimal_places=6,
                                        help_text="USD per GPU-hour (the GPUs are paid by the hour whether busy or not).")
    hosting = forms.ChoiceField(choices=GpuHosting.choices, initial=GpuHosting.OUTSIDE_AWS)
    api_key = forms.CharField(
        required=False, strip=True, max_length=selfhosted.MAX_API_KEY_CHARS,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: stored encrypted and never shown again. Leave empty to keep the current key.")
    clear_api_key = forms.BooleanField(required=False, label="Remove the stored API key")
    api_key_env = forms.CharField(required=False, max_length=100, label="API key environment variable",
                                  help_text="Or: the variable the workers read the key from (e.g. GPU_BOX_API_KEY).")

    class Meta:
        model = SelfHostedEntry
        fields = ("name", "model_id", "family", "tier", "max_concurrency", "requests_per_minute",
                  "tokens_per_minute", "is_active", "owner_partner")
        help_texts = {"model_id": "The catalog id the CLI and API use; a firm's own ids start with firm-<id>/.",
                      "max_concurrency": "Calls in flight at once across every worker (the server's batch size)."}

    partner = None  # the firm of a partner's login (set by the admin); None for staff

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["max_concurrency"] = forms.IntegerField(
            min_value=1, max_value=selfhosted.MAX_CONCURRENCY, initial=4,
            help_text="Calls in flight at once across every worker (what the server serves in parallel).")
        endpoint = SelfHostedEndpoint.objects.filter(catalog_model_id=self.instance.pk).first() \
            if self.instance.pk else None
        if endpoint is not None:
            for name in ENDPOINT_FIELDS:
                self.initial[name] = getattr(endpoint, name)
        self.fields["api_key"].help_text = (f"Now: {selfhosted.api_key_state(endpoint) if endpoint else 'none'}. "
                                            + self.fields["api_key"].help_text)

    def _owner(self, cleaned):
        return cleaned.get("owner_partner") if self.partner is None else self.partner

    def clean(self):
        cleaned = super().clean()
        for name, check in (("base_url", selfhosted.clean_base_url),
                            ("served_model_name", selfhosted.clean_served_model_name),
                            ("api_key_env", selfhosted.clean_api_key_env), ("api_key", selfhosted.clean_api_key)):
            if name in cleaned:
                try:
                    cleaned[name] = check(cleaned[name])
                except ValidationError as exc:
                    self.add_error(name, exc)
        key = cleaned.get("api_key") or ""
        if key and cleaned.get("clear_api_key"):
            self.add_error("api_key", "Give a new key or remove the stored one, not both.")
        if key and cleaned.get("api_key_env"):
            self.add_error("api_key", "Give either the API key or the environment variable holding it, not both.")
        self.api_key_change = "" if cleaned.get("clear_api_key") else (key or selfhosted.KEEP)
        if cleaned.get("model_id"):
            owner = self._owner(cleaned)
            model_id = selfhosted.firm_model_id(cleaned["model_id"], owner.pk if owner else None)
            taken = CatalogModel.objects.filter(model_id=model_id).exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("model_id", "An entry with this catalog id already exists.")
        return cleaned

    def _post_clean(self):
        pass  # validated above; saved by selfhosted_entry_save

    def save_entry(self):
        data = self.cleaned_data
        return selfhosted.selfhosted_entry_save(
            entry=self.instance, owner_partner=self._owner(data),
            name=data["name"], model_id=data["model_id"], family=data["family"], tier=data["tier"],
            max_concurrency=data["max_concurrency"], requests_per_minute=data.get("requests_per_minute"),
            tokens_per_minute=data.get("tokens_per_minute"), is_active=data.get("is_active", True),
            api_key=self.api_key_change,
            **{name: "" if data.get(name) is None else data[name] for name in ENDPOINT_FIELDS},
        )


@admin.register(SelfHostedEntry)
class SelfHostedEntryAdmin(PartnerScopedAdminMixin, admin.ModelAdmin):
    partner_path = "owner_partner"  # a firm's own entries; staff-managed ones are staff's to edit
    staff_only_fields = ("owner_partner",)
    staff_only_filters = ("owner_partner",)
    form = SelfHostedEntryForm
    list_display = ("name", "model_id", "owner_partner", "endpoint", "gpus", "gpu_hour_price", "api_key",
                    "max_concurrency", "is_active")
    list_filter = ("is_active", "owner_partner")
    search_fields = ("name", "model_id")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind=CatalogKind.SELF_HOSTED).select_related(
            "self_hosted", "owner_partner")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        access = access_of(request)
        form.partner = None if access.is_staff else access.partner
        return form

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f not in ENDPOINT_FIELDS + ("api_key", "clear_api_key")]
        return [*fields, "base_url", "served_model_name", "gpu_type", "gpu_count", "gpu_hour_price", "hosting",
                "api_key", "clear_api_key", "api_key_env"]

    def save_form(self, request, form, change):
        return form.instance  # saved by save_model, through the service

    def save_model(self, request, obj, form, change):
        form.save_entry()  # obj is form.instance: saved in place

    def save_related(self, request, form, formsets, change):
        pass  # no inlines, no many-to-many fields

    @admin.display(description="endpoint")
    def endpoint(self, entry):
        endpoint = getattr(entry, "self_hosted", None)
        return f"{endpoint.served_model_name} at {endpoint.base_url}" if endpoint else "-"

    @admin.display(description="GPUs")
    def gpus(self, entry):
        endpoint = getattr(entry, "self_hosted", None)
        return f"{endpoint.gpu_count} × {endpoint.gpu_type}" if endpoint else "-"

    @admin.display(description="USD per GPU-hour")
    def gpu_hour_price(self, entry):
        endpoint = getattr(entry, "self_hosted", None)
        return endpoint.gpu_hour_price if endpoint else "-"

    @admin.display(description="API key")
    def api_key(self, entry):
        endpoint = getattr(entry, "self_hosted", None)
        return selfhosted.api_key_state(endpoint) if endpoint else "-"
