"""The admin of intakes, with their stored verdicts. It lives in matching, not intake: a partner
sees only the intakes of the firm's engagements (PartnerScopedAdminMixin), the verdicts are
matching's, and replacing a status link mails the founder (matching.intake_flow)."""
from django.contrib import admin, messages
from django.db import models

from core.admin_inputs import AdminInputLimitsMixin
from intake.forms import country_formfield
from intake.models import Intake

from . import intake_flow
from .admin_scoping import PartnerScopedAdminMixin
from .models import PoolVerdict


class PoolVerdictInline(admin.TabularInline):
    model = PoolVerdict
    extra = 0
    can_delete = False
    fields = ["pool", "is_eligible", "estimated_amount_usd", "route", "rule_version", "reasons"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("pool", "rule_version")


@admin.register(Intake)
class IntakeAdmin(AdminInputLimitsMixin, PartnerScopedAdminMixin, admin.ModelAdmin):
    partner_path = "engagement__partner"
    staff_only_fields = ["status_token"]  # the founder's private link
    list_display = ["company_name", "contact_email", "country", "stage", "funding_kind", "use_case", "submitted_at",
                    "evaluated_at"]
    list_filter = ["stage", "funding_kind", "use_case", "country", "investor_is_activate_provider"]
    search_fields = ["company_name", "contact_email", "contact_name", "investor_name"]
    date_hierarchy = "submitted_at"
    # A website typed without a scheme is read as https, as on the public form.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [PoolVerdictInline]
    # evaluated_at stays empty while the worker has not yet recorded verdicts and the engagement.
    readonly_fields = ["status_token", "submitted_at", "evaluated_at"]
    actions = ["rotate_status_link"]
    staff_only_actions = ["rotate_status_link"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "country":  # the form's list, which is the one ACE accepts
            return country_formfield(db_field)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.action(description="Replace the status link (old links stop working; the founder is mailed the new one)")
    def rotate_status_link(self, request, queryset):
        for intake in queryset:
            intake_flow.status_link_rotate(intake=intake, by=request.user)
        self.message_user(request, f"New status link sent for {queryset.count()} intake(s).", messages.SUCCESS)
