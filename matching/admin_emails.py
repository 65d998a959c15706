"""The outgoing emails (core.models.OutboundEmail) for CloudRoute staff: what was queued, sent,
skipped or given up, with attempts and the last error. Read-only: delivery is core.mail's alone.
Partners never see it (recipients are founders' and other firms' addresses), and neither the body
nor the composer's params are shown: a founder's email carries a working status link."""
from django.contrib import admin
from django.db.models import Q

from core.models import EmailStatus, OutboundEmail

from .admin_scoping import PartnerScopedAdminMixin
from .roles import access_of


class RetriedFilter(admin.SimpleListFilter):
    title = "attempts"
    parameter_name = "retried"

    def lookups(self, request, model_admin):
        return [("yes", "tried more than once"), ("errored", "with an error")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(attempts__gt=1)
        if self.value() == "errored":
            return queryset.filter(~Q(last_error=""))
        return queryset


@admin.register(OutboundEmail)
class OutboundEmailAdmin(PartnerScopedAdminMixin, admin.ModelAdmin):
    partner_path = None  # CloudRoute staff only
    list_display = ["created_at", "subject_or_composer", "recipients", "status", "attempts", "last_attempt_at",
                    "sent_at", "error_excerpt"]
    list_filter = ["status", RetriedFilter, "composer"]
    search_fields = ["key", "subject"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    list_per_page = 50
    show_full_result_count = False
    fields = ["key", "status", "recipients", "subject", "composer", "attempts", "created_at", "last_attempt_at",
              "sent_at", "last_error"]
    readonly_fields = fields

    # Staff by role alone (the "CloudRoute staff" group is granted its product apps, not core);
    # partners and logins without a role get nothing (the mixin refuses them first).
    def has_module_permission(self, request):
        return access_of(request).is_staff

    def has_view_permission(self, request, obj=None):
        return access_of(request).is_staff

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("body", "html", "params")

    @admin.display(description="Subject", ordering="subject")
    def subject_or_composer(self, obj: OutboundEmail) -> str:
        if obj.subject:
            return obj.subject
        return f"({obj.composer}, written when sent)" if obj.composer else "—"

    @admin.display(description="To")
    def recipients(self, obj: OutboundEmail) -> str:
        return ", ".join(obj.to) or ("—" if obj.status != EmailStatus.PENDING else "(not yet composed)")

    @admin.display(description="Last error")
    def error_excerpt(self, obj: OutboundEmail) -> str:
        return (obj.last_error[:120] + "…") if len(obj.last_error) > 120 else (obj.last_error or "—")
