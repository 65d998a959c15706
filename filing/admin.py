"""Admin for the filings: the ACE opportunity, credit applications and the commission ledger.
Partners see their own firm's records; every status or money change goes through the verbs of
filing.ace, filing.credit_applications and filing.commission."""
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from core.admin_inputs import AdminInputLimitsMixin
from intake.forms import country_formfield
from matching.admin import ReadOnlyInline
from matching.admin_scoping import PartnerScopedAdminMixin
from matching.roles import access_of
from matching.selectors import engagements_visible_to
from matching.templatetags.money import money_text

from . import ace, credit_applications, partner_central
from .commission import commission_correct, commission_move
from .engagement_filings import engagement_filings_prepare
from .errors import FilingError
from .models import (
    AceOpportunity,
    AceStatusChange,
    BenefitStatus,
    Commission,
    CommissionEntry,
    CommissionStatus,
    CreditApplication,
    CreditApplicationStatusChange,
)
from .tasks import sync_ace_opportunity, sync_credit_application

ACE_LIFECYCLE_FIELDS = ["partner_central_id", "stage", "closed_lost_reason", "review_status", "review_comments"]


class AceStatusChangeInline(ReadOnlyInline):
    model = AceStatusChange
    fields = ["changed_at", "field", "from_value", "to_value", "comment", "source", "changed_by"]


class AceOpportunityAddForm(forms.ModelForm):
    class Meta:
        model = AceOpportunity
        fields = ["engagement"]


@admin.register(AceOpportunity)
class AceOpportunityAdmin(AdminInputLimitsMixin, PartnerScopedAdminMixin, admin.ModelAdmin):
    partner_path = "engagement__partner"
    list_display = ["__str__", "company_name", "partner", "partner_central_id", "stage", "review_status",
                    "has_error", "submitted_at"]
    list_filter = ["stage", "review_status", "catalog"]
    search_fields = ["company_name", "title", "partner_central_id", "engagement__intake__contact_email"]
    list_select_related = ["engagement__partner"]
    inlines = [AceStatusChangeInline]
    actions = ["submit", "read_back"]
    readonly_fields = ["engagement", "catalog", "uuid", "partner_central_arn", "readiness", "last_error",
                       "last_error_at", "submitted_at", "last_synced_at", "created_at", "updated_at"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = AceOpportunityAddForm
        return super().get_form(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "engagement":
            kwargs["queryset"] = engagements_visible_to(request).filter(
                status__in=ace.ACCEPTED_ENGAGEMENT_STATUSES, ace_opportunity__isnull=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "country_code":  # the intake's list, which is the one ACE accepts
            return country_formfield(db_field)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["engagement"]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = list(self.readonly_fields)
        if not ace.ace_is_draft(obj):
            readonly += [f.name for f in AceOpportunity._meta.concrete_fields
                         if f.name not in readonly and f.name not in ACE_LIFECYCLE_FIELDS and f.editable]
        if partner_central.is_configured():
            readonly += ACE_LIFECYCLE_FIELDS  # Partner Central is the source; the sync records moves
        return readonly

    @admin.display(description="Partner")
    def partner(self, obj):
        return obj.engagement.partner

    @admin.display(description="Error", boolean=True)
    def has_error(self, obj):
        return bool(obj.last_error)

    @admin.display(description="Ready for Partner Central?")
    def readiness(self, obj):
        problems = ace.ace_opportunity_problems(obj)
        if not problems:
            return "Yes: every required field is filled and valid."
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((str(p),) for p in problems)))

    def save_model(self, request, obj, form, change):
        if not change:
            opportunity = engagement_filings_prepare(engagement=obj.engagement, by=request.user)
            obj.pk = opportunity.pk
            return
        moved = {name: form.cleaned_data[name] for name in ACE_LIFECYCLE_FIELDS if name in form.changed_data}
        original = AceOpportunity.objects.get(pk=obj.pk)
        for name in moved:
            setattr(obj, name, getattr(original, name))
        obj.save()
        if moved:
            try:
                ace.ace_opportunity_record(opportunity=obj, by=request.user, **moved)
            except FilingError as exc:
                self.message_user(request, str(exc), messages.ERROR)

    @admin.action(description="Validate and submit to Partner Central")
    def submit(self, request, queryset):
        for opportunity in queryset:
            try:
                ace.ace_opportunity_submit(opportunity=opportunity, by=request.user)
            except FilingError as exc:
                self.message_user(request, f"{opportunity}: {exc}", messages.ERROR)
            else:
                how = "is being filed" if partner_central.is_configured() else "is recorded as submitted"
                self.message_user(request, f"{opportunity} {how}.")

    @admin.action(description="Read back from Partner Central now")
    def read_back(self, request, queryset):
        ids = list(queryset.exclude(partner_central_id="").values_list("pk", flat=True))
        if not partner_central.is_configured():
            self.message_user(request, "No Partner Central credentials: record changes by hand.", messages.WARNING)
            return
        for pk in ids:
            sync_ace_opportunity.delay(pk)
        self.message_user(request, f"Reading back {len(ids)} opportunity(ies).")


class CreditApplicationStatusChangeInline(ReadOnlyInline):
    model = CreditApplicationStatusChange
    fields = ["changed_at", "from_status", "to_status", "reason", "source", "changed_by"]


MANUAL_APPLICATION_FIELDS = ["status", "amount_approved", "expires_on", "status_reason"]


@admin.register(CreditApplication)
class CreditApplicationAdmin(PartnerScopedAdminMixin, admin.ModelAdmin):
    partner_path = "engagement__partner"
    list_display = ["__str__", "pool", "requested", "status", "approved", "expires_on", "has_error"]
    list_filter = ["status", "pool"]
    search_fields = ["engagement__intake__company_name", "benefit_application_id"]
    list_select_related = ["pool", "engagement__intake"]
    inlines = [CreditApplicationStatusChangeInline]
    actions = ["submit", "read_back"]
    readonly_fields = ["engagement", "pool", "uuid", "catalog", "benefit_application_id", "benefit_application_arn",
                       "submitted_at", "decided_at", "last_error", "last_error_at", "last_synced_at", "created_at"]
    fields = ["engagement", "pool", "currency", "amount_requested", *MANUAL_APPLICATION_FIELDS, *readonly_fields[2:]]

    def has_add_permission(self, request):
        return False  # opened for the matched pools with the ACE draft

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.readonly_fields)
        if obj is not None and not credit_applications.credit_application_is_draft(obj):
            readonly += ["currency", "amount_requested"]
        if obj is not None and obj.amount_approved is not None and not access_of(request).is_staff:
            readonly += ["amount_approved"]  # a correction moves the commission: CloudRoute staff only
        if obj is not None and obj.files_through_api and partner_central.is_configured():
            readonly += ["status", "status_reason"]
        return readonly

    @admin.display(description="Error", boolean=True)
    def has_error(self, obj):
        return bool(obj.last_error)

    @admin.display(description="Amount requested", ordering="amount_requested")
    def requested(self, obj):
        return money_text(obj.amount_requested, obj.currency)

    @admin.display(description="Amount approved", ordering="amount_approved")
    def approved(self, obj):
        return money_text(obj.amount_approved, obj.currency)

    def save_model(self, request, obj, form, change):
        # Every field of the form is money or status: each goes through its verb, which writes history.
        manual = {name: form.cleaned_data[name] for name in MANUAL_APPLICATION_FIELDS if name in form.changed_data}
        amount = {name: form.cleaned_data[name] for name in ("amount_requested", "currency")
                  if name in form.changed_data}
        original = CreditApplication.objects.get(pk=obj.pk)
        _refresh_from(obj, original)
        try:
            if amount:
                credit_applications.credit_application_amount_set(
                    application=obj, amount_requested=amount.get("amount_requested", original.amount_requested),
                    currency=amount.get("currency"), by=request.user,
                )
        except FilingError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        if not manual:
            return
        try:
            if "amount_approved" in manual and original.status == BenefitStatus.APPROVED and "status" not in manual:
                credit_applications.credit_application_correct_approved_amount(
                    application=obj, amount_approved=manual["amount_approved"], by=request.user,
                    reason=manual.get("status_reason") or "Approved amount corrected in the admin.",
                )
            else:
                credit_applications.credit_application_record(
                    application=obj, status=manual.get("status", obj.status), by=request.user,
                    reason=manual.get("status_reason", ""), amount_approved=manual.get("amount_approved"),
                    expires_on=manual.get("expires_on"),
                )
        except FilingError as exc:
            self.message_user(request, str(exc), messages.ERROR)

    @admin.action(description="Submit (through Partner Central when the pool has a benefit id)")
    def submit(self, request, queryset):
        for application in queryset.select_related("pool"):
            try:
                credit_applications.credit_application_submit(application=application, by=request.user)
            except FilingError as exc:
                self.message_user(request, f"{application}: {exc}", messages.ERROR)

    @admin.action(description="Read back from Partner Central now")
    def read_back(self, request, queryset):
        ids = list(queryset.exclude(benefit_application_id="").values_list("pk", flat=True))
        for pk in ids:
            sync_credit_application.delay(pk)
        self.message_user(request, f"Reading back {len(ids)} application(s).")


def _refresh_from(obj, stored) -> None:
    """The form's unsaved edits undone: what the verbs then change is what gets saved."""
    for field in stored._meta.concrete_fields:
        setattr(obj, field.attname, getattr(stored, field.attname))


class CommissionEntryInline(ReadOnlyInline):
    model = CommissionEntry
    fields = ["created_at", "kind", "amount", "base_amount", "note", "created_by"]


class CommissionForm(forms.ModelForm):
    corrected_amount = forms.DecimalField(
        required=False, max_digits=12, decimal_places=2, min_value=Decimal("0"),
        help_text="The amount now owed; the difference is recorded as a correction entry.",
    )
    correction_reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = Commission
        fields: list[str] = []

    def clean(self):
        data = super().clean()
        if data.get("corrected_amount") is not None and not (data.get("correction_reason") or "").strip():
            self.add_error("correction_reason", "Say why the commission is corrected.")
        return data


@admin.register(Commission)
class CommissionAdmin(PartnerScopedAdminMixin, admin.ModelAdmin):
    partner_path = "partner"
    partner_read_only = True  # partners read their firm's commission; only CloudRoute staff move it
    staff_only_filters = ["partner"]
    form = CommissionForm
    list_display = ["__str__", "partner", "rate", "owed", "status", "created_at"]
    list_filter = ["status", "partner"]
    list_select_related = ["partner", "credit_application__pool"]
    search_fields = ["partner__name", "credit_application__engagement__intake__company_name"]
    readonly_fields = ["credit_application", "partner", "rate", "currency", "status", "owed", "created_at"]
    fields = readonly_fields + ["corrected_amount", "correction_reason"]
    inlines = [CommissionEntryInline]
    actions = ["mark_invoiced", "mark_paid", "write_off"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("entries")

    def has_add_permission(self, request):
        return False  # accrues when a credit application is approved

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return super().get_actions(request) if self.has_change_permission(request) else {}

    @admin.display(description="Owed")
    def owed(self, obj):
        return money_text(obj.amount, obj.currency)

    def save_model(self, request, obj, form, change):
        amount = form.cleaned_data.get("corrected_amount")
        if amount is not None:
            commission_correct(
                commission=obj, amount=amount, by=request.user, reason=form.cleaned_data["correction_reason"]
            )

    def _move(self, request, queryset, to_status):
        moved = 0
        for commission in queryset:
            try:
                commission_move(commission=commission, to_status=to_status, by=request.user)
            except FilingError as exc:
                self.message_user(request, f"{commission}: {exc}", messages.ERROR)
            else:
                moved += 1
        if moved:  # say what happened: the list alone does not show which rows just moved
            label = CommissionStatus(to_status).label.lower()
            self.message_user(request, f"{moved} commission{'s' if moved != 1 else ''} now {label}; each row's "
                                       "entries say who moved it and when.", messages.SUCCESS)

    @admin.action(description="Mark invoiced")
    def mark_invoiced(self, request, queryset):
        self._move(request, queryset, CommissionStatus.INVOICED)

    @admin.action(description="Mark paid")
    def mark_paid(self, request, queryset):
        self._move(request, queryset, CommissionStatus.PAID)

    @admin.action(description="Write off")
    def write_off(self, request, queryset):
        self._move(request, queryset, CommissionStatus.WRITTEN_OFF)

