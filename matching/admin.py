"""Staff admin for pools and their versioned rules, partners and engagements (with the unmatched
queue and hand assignment). Every change goes through matching.services."""
import json

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.forms.formsets import all_valid
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin_inputs import AdminInputLimitsMixin

from . import eligibility, pool_rules, services
from .breakdown_display import breakdown_html
from .forms import AssignPartnerForm, ReasonForm
from .models import (
    CreditPool,
    Engagement,
    EngagementStatusChange,
    MatchDecision,
    Partner,
    PartnerMember,
    PoolRule,
    PoolVerdict,
    RuleSetVersion,
)
from .admin_scoping import PartnerScopedAdminMixin
from .models.engagements import OCCUPYING_STATUSES, WAITING_STATUSES
from .selectors import engagements_visible_to
from .templatetags.money import money_text


class ReadOnlyInline(admin.TabularInline):
    """History-like rows: shown for context, never added, edited or deleted by hand."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


URLS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


class PoolRuleInline(AdminInputLimitsMixin, admin.TabularInline):
    model = PoolRule
    extra = 1
    formfield_overrides = URLS_ASSUME_HTTPS
    fields = ["position", "kind", "params", "source_url", "source_as_of", "source_note"]


class RuleSetVersionInline(ReadOnlyInline):
    model = RuleSetVersion
    fields = ["version", "created_at", "created_by", "snapshot"]
    ordering = ["-version"]
    show_change_link = True


def _source_html(source: dict) -> str:
    if not source or not source.get("url"):
        return format_html('<strong style="color:#9c3324">no source cited</strong>')
    return format_html('<a href="{}" rel="noopener noreferrer">{}</a> (as of {}){}', source["url"], source["url"],
                       source.get("as_of") or "?", format_html(" — {}", source["note"]) if source.get("note") else "")


def rules_with_sources_html(snapshot: dict):
    """A frozen version's rules, each with the page it cites, for staff."""
    return format_html(
        "<p>Amounts and route: {}</p><table>{}</table>",
        _source_html(snapshot["pool"].get("source") or {}),
        format_html_join("", "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>", (
            (rule["kind"], json.dumps(rule.get("params") or {}), _source_html(rule.get("source") or {}))
            for rule in snapshot["rules"]
        )),
    )


@admin.register(CreditPool)
class CreditPoolAdmin(PartnerScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "filing_route", "amount_range", "typical_amount", "is_active", "position",
                    "cites_sources"]
    list_filter = ["filing_route", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PoolRuleInline, RuleSetVersionInline]
    formfield_overrides = URLS_ASSUME_HTTPS
    change_form_template = "admin/matching/creditpool/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("rules")

    @admin.display(description="Sources", boolean=True)
    def cites_sources(self, obj):
        """Whether the terms and every rule cite a page and a date."""
        return all(x.source_url and x.source_as_of for x in [obj, *obj.rules.all()])

    @admin.display(description="Amount", ordering="amount_max_usd")
    def amount_range(self, obj):
        return f"{money_text(obj.amount_min_usd)} to {money_text(obj.amount_max_usd)}"

    @admin.display(description="Typical amount", ordering="typical_amount_usd")
    def typical_amount(self, obj):
        return money_text(obj.typical_amount_usd)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Any edit to the terms or rules becomes a new version; earlier verdicts keep theirs.
        version = pool_rules.pool_rules_publish(pool=form.instance, by=request.user)
        self.message_user(request, f"{form.instance.name} is evaluated with rules version {version.version}.")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and "_preview_impact" in request.POST and object_id:
            preview = self._impact_preview(request, object_id)
            if preview is not None:
                return preview
        # An invalid edit falls through: the change form shows its errors and saves nothing.
        extra_context = {**(extra_context or {}), "impact_default_last": settings.ELIGIBILITY_IMPACT_INTAKES}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _impact_preview(self, request, object_id):
        """The edit on the change form, evaluated without saving against the latest intakes: how many
        would change verdict, which, and which way. Publishing re-posts the same form."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_change_permission(request, obj):
            raise PermissionDenied
        form = self.get_form(request, obj, change=True)(request.POST, request.FILES, instance=obj)
        if not form.is_valid():
            return None
        formsets, _ = self._create_formsets(request, form.instance, change=True)
        if not all_valid(formsets):
            return None
        rules = []
        for formset in formsets:
            if formset.model is not PoolRule:
                continue
            for rule_form in formset.forms:
                if formset._should_delete_form(rule_form) or (rule_form.instance.pk is None and not rule_form.has_changed()):
                    continue
                rules.append(rule_form.instance)
        rules.sort(key=lambda r: (r.position, r.pk or float("inf")))
        snapshot = eligibility.build_snapshot(form.instance, rules)
        last = _positive_int(request.POST.get("_impact_last"), settings.ELIGIBILITY_IMPACT_INTAKES)
        impact = pool_rules.rule_edit_impact(pool=obj, snapshot=snapshot, last=last)
        resubmit = [(k, v) for k, values in request.POST.lists() for v in values
                    if k not in ("csrfmiddlewaretoken", "_preview_impact", "_impact_last")]
        return TemplateResponse(request, "admin/matching/creditpool/impact_preview.html", {
            **self.admin_site.each_context(request), "title": f"Impact of this edit: {obj.name}",
            "opts": self.model._meta, "original": obj, "impact": impact, "last": last,
            "rules": rules_with_sources_html(snapshot), "resubmit": resubmit,
        })


def _positive_int(value, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, 1), 10_000)


@admin.register(RuleSetVersion)
class RuleSetVersionAdmin(PartnerScopedAdminMixin, admin.ModelAdmin):
    list_display = ["pool", "version", "created_at", "created_by"]
    list_filter = ["pool"]
    list_select_related = ["pool", "created_by"]
    readonly_fields = ["pool", "version", "rules_and_sources", "snapshot", "digest", "created_at", "created_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Rules and their sources")
    def rules_and_sources(self, obj):
        return rules_with_sources_html(obj.snapshot)


class PartnerMemberInline(admin.TabularInline):
    model = PartnerMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Partner)
class PartnerAdmin(AdminInputLimitsMixin, PartnerScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "is_vetted", "is_active", "specialties", "regions", "languages", "capacity",
                    "open_engagements", "commission_rate"]
    list_filter = ["is_vetted", "is_active"]
    search_fields = ["name"]
    inlines = [PartnerMemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _open=Count("engagements", filter=Q(engagements__status__in=OCCUPYING_STATUSES))
        )

    @admin.display(description="Open engagements", ordering="_open")
    def open_engagements(self, obj):
        return obj._open


class UnmatchedQueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("unmatched", "Unmatched queue (needs staff)"), ("active", "With a partner")]

    def queryset(self, request, queryset):
        if self.value() == "unmatched":
            return queryset.filter(status__in=WAITING_STATUSES)
        if self.value() == "active":
            return queryset.filter(status__in=OCCUPYING_STATUSES)
        return queryset


class StatusChangeInline(ReadOnlyInline):
    model = EngagementStatusChange
    fields = ["changed_at", "from_status", "to_status", "partner", "changed_by", "reason"]


class PartnerStatusChangeInline(ReadOnlyInline):
    """The history as a partner sees it: no other firm's name, no staff names."""

    model = EngagementStatusChange
    fields = ["changed_at", "from_status", "to_status", "reason"]


class MatchDecisionInline(ReadOnlyInline):
    model = MatchDecision
    template = "admin/edit_inline/stacked.html"  # the breakdown's tables need the full width
    fields = ["decided_at", "method", "partner", "score", "decided_by", "reason", "breakdown_table"]

    @admin.display(description="Breakdown")
    def breakdown_table(self, obj):
        return breakdown_html(obj.breakdown)


@admin.register(Engagement)
class EngagementAdmin(PartnerScopedAdminMixin, admin.ModelAdmin):
    partner_path = "partner"
    staff_only_filters = ["queue", "partner"]
    staff_only_actions = ["assign_partner", "rematch", "close"]
    partner_inlines = [PartnerStatusChangeInline]  # match decisions score other firms: staff only
    list_display = ["id", "company", "status", "partner", "expected_credits", "created_at", "workspace"]
    list_filter = [UnmatchedQueueFilter, "status", "partner", "matched_pools"]
    search_fields = ["intake__company_name", "intake__contact_email", "partner__name"]
    list_select_related = ["intake", "partner"]
    readonly_fields = ["workspace", "intake", "partner", "status", "expected_credits", "matched_pools", "verdicts",
                       "created_at", "updated_at"]
    fields = readonly_fields
    inlines = [StatusChangeInline, MatchDecisionInline]
    actions = ["assign_partner", "rematch", "accept", "decline", "start", "close"]

    def get_queryset(self, request):
        return engagements_visible_to(request)

    def has_add_permission(self, request):
        return False  # engagements open from intakes only

    @admin.display(description="Company", ordering="intake__company_name")
    def company(self, obj):
        return obj.intake.company_name

    @admin.display(description="Expected credits", ordering="estimated_credits_usd")
    def expected_credits(self, obj):
        return money_text(obj.estimated_credits_usd)

    @admin.display(description="Workspace")
    def workspace(self, obj):
        return format_html('<a href="{}">Open the workspace</a>', reverse("workspace:detail", args=[obj.pk]))

    @admin.display(description="Verdicts")
    def verdicts(self, obj):
        rows = obj.intake.verdicts.select_related("pool", "rule_version")
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>v{}</td><td>{}</td></tr>",
                (
                    (v.pool.name, v.headline, money_text(v.estimated_amount_usd),
                     v.rule_version.version, "; ".join(r["text"] for r in v.reasons if not r["passed"]) or "all rules pass")
                    for v in rows
                ),
            ),
        )

    def _form_action(self, request, queryset, *, form_class, action_name, intro, submit_label, apply):
        """Two-step admin action: show a small form, then run `apply(engagement, cleaned_data)` per row,
        reporting refusals from the services as messages."""
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for engagement in queryset:
                try:
                    apply(engagement, form.cleaned_data)
                    done += 1
                except services.MatchingError as exc:
                    self.message_user(request, f"{engagement}: {exc}", messages.ERROR)
            if done:
                self.message_user(request, f"{submit_label}: {done} engagement(s).")
            return HttpResponseRedirect(request.get_full_path())
        return TemplateResponse(
            request,
            "admin/matching/engagement/action_form.html",
            {**self.admin_site.each_context(request), "title": intro, "intro": intro, "form": form,
             "engagements": queryset, "opts": self.model._meta, "action_name": action_name,
             "submit_label": submit_label, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME},
        )

    @admin.action(description="Assign a partner by hand (with a reason)")
    def assign_partner(self, request: HttpRequest, queryset):
        return self._form_action(
            request, queryset, form_class=AssignPartnerForm, action_name="assign_partner",
            intro="Assign a partner by hand", submit_label="Assign",
            apply=lambda e, data: services.engagement_assign(
                engagement=e, partner=data["partner"], by=request.user, reason=data["reason"]),
        )

    @admin.action(description="Decline (the partner cannot take it; re-matches)")
    def decline(self, request: HttpRequest, queryset):
        return self._form_action(
            request, queryset, form_class=ReasonForm, action_name="decline",
            intro="Decline these engagements", submit_label="Decline",
            apply=lambda e, data: services.engagement_decline(engagement=e, by=request.user, reason=data["reason"]),
        )

    def _simple(self, request, queryset, verb, label):
        for engagement in queryset:
            try:
                verb(engagement=engagement, by=request.user)
                self.message_user(request, f"{engagement}: {label}.")
            except services.MatchingError as exc:
                self.message_user(request, f"{engagement}: {exc}", messages.ERROR)

    @admin.action(description="Accept")
    def accept(self, request, queryset):
        self._simple(request, queryset, services.engagement_accept, "accepted")

    @admin.action(description="Start work (in progress)")
    def start(self, request, queryset):
        self._simple(request, queryset, services.engagement_start, "in progress")

    @admin.action(description="Close")
    def close(self, request, queryset):
        self._simple(request, queryset, services.engagement_close, "closed")

    @admin.action(description="Re-run automatic matching for waiting engagements")
    def rematch(self, request, queryset):
        for engagement in queryset.filter(status__in=WAITING_STATUSES):
            engagement = services.engagement_match(engagement=engagement, by=request.user)
            self.message_user(request, f"{engagement}: {engagement.get_status_display()}"
                              + (f" with {engagement.partner}" if engagement.partner else ""))


@admin.register(PoolVerdict)
class PoolVerdictAdmin(PartnerScopedAdminMixin, admin.ModelAdmin):
    partner_path = "intake__engagement__partner"
    list_display = ["intake", "pool", "is_eligible", "estimate", "route", "rule_version", "created_at"]
    list_filter = ["pool", "is_eligible", "route"]
    search_fields = ["intake__company_name", "intake__contact_email"]
    list_select_related = ["intake", "pool", "rule_version__pool"]  # the version names its pool
    readonly_fields = ["intake", "pool", "rule_version", "is_eligible", "estimated_amount_usd", "route",
                       "route_reason", "reasons", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Estimated amount", ordering="estimated_amount_usd")
    def estimate(self, obj):
        return money_text(obj.estimated_amount_usd)


from . import admin_intake  # noqa: E402,F401  (intakes, scoped to the firm's engagements)
from . import admin_emails  # noqa: E402,F401  (outgoing emails, CloudRoute staff only)
