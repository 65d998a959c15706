"""Admin for the bake-off: staff edit the catalog; partners see their own eval sets and runs,
cancel or resume a run, and read its report."""
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from matching.admin_scoping import PartnerScopedAdminMixin

from . import selectors, services
from .catalog import catalog_edit, catalog_history_start
from .catalog_models import CatalogChange, CatalogModel, InferenceProfile
from .models import (
    BakeoffResult,
    BakeoffRun,
    BatchJob,
    CustomModel,
    EvalCase,
    EvalSet,
    RunModel,
    RunStatusChange,
)


class ReadOnlyInline(admin.TabularInline):
    """Rows written by services, shown for reading."""

    extra = 0
    max_num = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class InferenceProfileInline(ReadOnlyInline):
    """Written by the Bedrock sync (and the seed)."""

    model = InferenceProfile
    fields = ("profile_id", "status", "listed", "synced_at")


class CatalogChangeInline(ReadOnlyInline):
    """The model's history: every sync change and staff edit, prices with their effective date."""

    model = CatalogChange
    fields = ("changed_at", "source", "changed_by", "changes", "note")


class CustomModelInline(admin.StackedInline):
    """A catalog entry of kind "Bedrock custom model": its ARN and how Bedrock bills it (validated by
    CustomModel.clean: Provisioned Throughput needs units and a price, commitments are 0, 1 or 6 months)."""

    model = CustomModel
    fk_name = "catalog_model"
    extra = 0
    max_num = 1
    fields = ("model_arn", "source", "base_model", "pricing", "model_units", "model_unit_hour_price",
              "commitment_months", "training_cost_usd", "amortisation_months")
    autocomplete_fields = ("base_model",)
    verbose_name = "Bedrock custom model (for kind “Bedrock custom model”)"


class CatalogModelForm(forms.ModelForm):
    class Meta:
        model = CatalogModel
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            price_fields = ("input_per_1m", "output_per_1m", "cache_read_per_1m", "cache_write_per_1m",
                            "batch_discount", "profile_price_factor")
            if any(f in self.changed_data for f in price_fields) and "effective_date" not in self.changed_data:
                self.add_error("effective_date", "Prices changed: give the date the new prices take effect. "
                                                 "The old prices stay in the history; runs keep the prices they froze.")
        return cleaned


@admin.register(CatalogModel)
class CatalogModelAdmin(PartnerScopedAdminMixin, admin.ModelAdmin):
    partner_path = ""  # partners pick models from it and may read every price
    partner_read_only = True
    form = CatalogModelForm
    list_display = ("name", "kind", "family", "tier", "weights", "invoked_id", "input_per_1m", "output_per_1m",
                    "cache_read_per_1m", "cache_write_per_1m", "profile_price_factor", "effective_date",
                    "lifecycle_status", "end_of_life_date", "batch_supported", "listed_by_bedrock", "is_active")
    list_filter = ("kind", "family", "tier", "weights", "is_active", "lifecycle_status", "batch_supported",
                   "listed_by_bedrock", "requires_profile")
    search_fields = ("name", "model_id", "inference_profile_id")
    list_editable = ("is_active",)
    readonly_fields = ("inference_types", "input_modalities", "output_modalities", "listed_by_bedrock", "synced_at")
    inlines = [CustomModelInline, InferenceProfileInline, CatalogChangeInline]

    def get_queryset(self, request):
        # Staff-managed entries and the firm's own: another firm's self-hosted entry is a 404.
        return super().get_queryset(request).visible_to(request)

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        before = catalog_history_start(CatalogModel.objects.get(pk=obj.pk))
        catalog_edit(entry=obj, before=before, by=request.user)


class EvalCaseInline(ReadOnlyInline):
    model = EvalCase
    fields = ("line", "case_id", "category", "scorer", "prompt", "expected")


@admin.register(EvalSet)
class EvalSetAdmin(PartnerScopedAdminMixin, admin.ModelAdmin):
    partner_path = "partner"
    list_display = ("name", "partner", "engagement", "case_count", "created_at")
    search_fields = ("name", "filename")
    list_select_related = ("partner", "engagement__intake")
    readonly_fields = ("case_count", "created_by", "created_at")
    inlines = [EvalCaseInline]

    def get_queryset(self, request):
        return selectors.eval_sets_visible_to(request)

    def add_view(self, request, form_url="", extra_context=None):
        # An eval set is born from an uploaded file, validated row by row: the upload page does that.
        if not self.has_add_permission(request):
            raise PermissionDenied
        return redirect("bakeoffs:upload")


class RunModelInline(ReadOnlyInline):
    model = RunModel
    fields = ("role", "catalog_model", "invoked_id", "input_per_1m", "output_per_1m", "cache_read_per_1m",
              "cache_write_per_1m", "batch_discount", "prices_effective_date", "max_concurrency")


class BatchJobInline(ReadOnlyInline):
    model = BatchJob
    fields = ("run_model", "attempt", "model_id", "status", "message", "job_arn", "records_total",
              "records_succeeded", "records_failed", "submitted_at", "ended_at", "results_read_at")


class StatusChangeInline(ReadOnlyInline):
    model = RunStatusChange
    fields = ("changed_at", "from_status", "to_status", "changed_by", "reason")


@admin.register(BakeoffRun)
class BakeoffRunAdmin(PartnerScopedAdminMixin, admin.ModelAdmin):
    partner_path = "partner"
    list_display = ("id", "report_link", "eval_set", "engagement", "status", "progress", "sandbox",
                    "estimated_cost_usd", "created_at")
    list_filter = ("status", "sandbox", "mode")
    list_select_related = ("eval_set", "engagement__intake", "partner")
    readonly_fields = ("eval_set", "engagement", "partner", "created_by", "status", "mode", "temperature", "max_tokens",
                       "bar_points", "endpoint_url", "sandbox", "total_pairs", "done_count", "failed_count",
                       "last_progress_at", "dispatch_count", "estimated_cost_usd", "estimated_cost_max_usd", "error", "created_at",
                       "started_at", "finished_at", "report_json")
    exclude = ("report",)
    inlines = [RunModelInline, BatchJobInline, StatusChangeInline]
    actions = ["cancel_runs", "resume_runs", "share_with_founder", "stop_sharing_with_founder"]

    def get_readonly_fields(self, request, obj=None):
        # Every field is written by the services (sharing with the founder too, with its history
        # row): the form only shows them.
        return [*self.readonly_fields, "cache_system_prompt", "shared_with_founder"]

    def get_queryset(self, request):
        return selectors.runs_visible_to(request)

    def has_add_permission(self, request):
        return False  # launched with an eval set and models through bakeoff_launch (CLI or page)

    @admin.display(description="report")
    def report_link(self, run):
        return format_html('<a href="{}">{}</a>', reverse("bakeoffs:report", args=[run.pk]),
                           "Report" if run.report else "Progress")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "launch_url": reverse("bakeoffs:launch")}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "report_url": reverse("bakeoffs:report", args=[object_id])
                         if str(object_id).isdigit() else None}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="done / failed / total")
    def progress(self, run):
        return f"{run.done_count} / {run.failed_count} / {run.total_pairs}"

    @admin.display(description="report")
    def report_json(self, run):
        if not run.report:
            return "-"
        return format_html("<pre style='max-height:40em;overflow:auto'>{}</pre>", json.dumps(run.report, indent=2))

    @admin.action(description="Cancel the selected runs")
    def cancel_runs(self, request, queryset):
        cancelled = sum(services.bakeoff_cancel(run=run, by=request.user) for run in queryset)
        self.message_user(request, f"{cancelled} run(s) cancelled.", messages.SUCCESS)

    @admin.action(description="Share the summary with the founder (finished runs)", permissions=["change"])
    def share_with_founder(self, request, queryset):
        self._share(request, queryset, shared=True)

    @admin.action(description="Stop sharing the summary with the founder", permissions=["change"])
    def stop_sharing_with_founder(self, request, queryset):
        self._share(request, queryset, shared=False)

    def _share(self, request, queryset, *, shared: bool):
        done = 0
        for run in queryset:
            try:
                services.bakeoff_share(run=run, shared=shared, by=request.user)
                done += 1
            except services.BakeoffError as exc:
                self.message_user(request, f"{run}: {exc}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} run(s) {'shared with' if shared else 'no longer shared with'} "
                                       "the founder.", messages.SUCCESS)

    @admin.action(description="Resume the selected runs (dispatch missing pairs)")
    def resume_runs(self, request, queryset):
        sent = sum(services.bakeoff_resume(run_id=run.pk) for run in queryset)
        self.message_user(request, f"{sent} missing pair(s) dispatched.", messages.SUCCESS)


@admin.register(BakeoffResult)
class BakeoffResultAdmin(PartnerScopedAdminMixin, admin.ModelAdmin):
    partner_path = "run__partner"
    list_display = ("run", "run_model", "case", "status", "passed", "latency_ms", "input_tokens", "output_tokens",
                    "attempts", "error_code")
    list_filter = ("status", "passed")
    list_select_related = ("run", "run_model", "case")
    readonly_fields = [f.name for f in BakeoffResult._meta.fields]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(run__in=selectors.runs_visible_to(request))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
from . import admin_selfhosted  # noqa: E402,F401  (registers the self-hosted entries' admin)
