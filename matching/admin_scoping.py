"""One scoping rule for every admin page: CloudRoute staff see everything; a partner firm's login
sees only its own firm's rows (lists, detail, history, delete, search, filters, autocomplete and
foreign-key choices), and never staff-only models, fields, filters, inlines or actions."""
from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest

from .models import Partner
from .selectors import is_cloudroute_staff, partner_for_user

PARTNER_GROUP = "Partner staff"
STAFF_GROUP = "CloudRoute staff"


def admin_partner(request: HttpRequest) -> Partner | None:
    """The firm the request's login works for; None for superusers and CloudRoute staff.
    Cached on the request: every admin hook asks."""
    if not hasattr(request, "_cloudroute_partner"):
        request._cloudroute_partner = user_partner(request.user)
    return request._cloudroute_partner


def user_partner(user: AbstractBaseUser) -> Partner | None:
    if not user or not user.is_authenticated or user.is_superuser:
        return None
    return partner_for_user(user)


def _filter_name(entry) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, (list, tuple)):
        return entry[0]
    return getattr(entry, "parameter_name", "") or entry.__name__


class PartnerScopedAdminMixin:
    """Put first in the bases of every ModelAdmin.

    partner_path: lookup from the model to its Partner ("engagement__partner"); None means the
    model is CloudRoute-staff only; "" means every row is shown to partners (reference data such
    as the model catalog). partner_read_only: partners may look but not add, change or delete.
    """

    partner_path: str | None = None
    partner_read_only: bool = False
    staff_only_fields: Sequence[str] = ()
    staff_only_filters: Sequence[str] = ()
    staff_only_actions: Sequence[str] = ()
    partner_inlines: Sequence | None = None  # inlines shown to partners instead of `inlines`

    # --- rows ---------------------------------------------------------------------------------
    def get_queryset(self, request):
        qs = super().get_queryset(request)
        partner = admin_partner(request)
        if partner is None:
            return qs
        if self.partner_path is None:
            return qs.none()
        if self.partner_path == "":
            return qs
        return qs.filter(**{self.partner_path: partner})

    def get_object(self, request, object_id, from_field=None):
        # Another firm's id is simply not found (a 404, never a redirect that confirms it exists).
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("Not found.")
        return obj

    # --- permissions --------------------------------------------------------------------------
    def _partner_may(self, request, obj, *, write: bool) -> bool:
        partner = admin_partner(request)
        if partner is None:
            return True
        if self.partner_path is None or (write and self.partner_read_only):
            return False
        if obj is not None and obj.pk is not None and self.partner_path:
            return self.get_queryset(request).filter(pk=obj.pk).exists()
        return True

    def has_module_permission(self, request):
        if admin_partner(request) is not None and self.partner_path is None:
            return False
        return super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._partner_may(request, obj, write=False) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._partner_may(request, obj, write=True) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._partner_may(request, obj, write=True) and super().has_delete_permission(request, obj)

    def has_add_permission(self, request, *args):
        return self._partner_may(request, None, write=True) and super().has_add_permission(request, *args)

    # --- what a partner sees of a row ---------------------------------------------------------
    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if admin_partner(request) is None:
            return fields
        return [f for f in fields if f not in self.staff_only_fields]

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        if admin_partner(request) is None:
            return columns
        return [c for c in columns if c not in self.staff_only_fields]

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if admin_partner(request) is None:
            return filters
        hidden = set(self.staff_only_filters) | set(self.staff_only_fields)
        return [f for f in filters if _filter_name(f) not in hidden]

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if admin_partner(request) is None:
            return fields
        return [f for f in fields if f.split("__")[0] not in self.staff_only_fields]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if admin_partner(request) is not None:
            for name in self.staff_only_actions:
                actions.pop(name, None)
        return actions

    def get_inlines(self, request, obj):
        if admin_partner(request) is not None and self.partner_inlines is not None:
            return self.partner_inlines
        return super().get_inlines(request, obj)

    # --- choices in forms: only rows the login may see ----------------------------------------
    def _scoped_choices(self, db_field, request, kwargs):
        if admin_partner(request) is None or "queryset" in kwargs:
            return
        related_admin = self.admin_site._registry.get(db_field.related_model)
        if isinstance(related_admin, PartnerScopedAdminMixin):
            kwargs["queryset"] = related_admin.get_queryset(request)
        else:
            kwargs["queryset"] = db_field.related_model._default_manager.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# What a partner firm's login may do in the admin; rows are scoped by the mixin above.
PARTNER_PERMISSIONS: dict[str, list[str]] = {
    "intake": ["view_intake"],
    "matching": ["view_engagement", "change_engagement", "view_poolverdict", "view_aceopportunity",
                 "add_aceopportunity", "change_aceopportunity", "view_creditapplication",
                 "change_creditapplication", "view_commission"],
    "bakeoff_jobs": ["view_catalogmodel", "view_evalset", "add_evalset", "view_bakeoffrun", "add_bakeoffrun",
                     "change_bakeoffrun", "view_bakeoffresult"],
}
STAFF_APPS = ["intake", "matching", "bakeoff_jobs"]


def admin_groups_ensure():
    """Create or refresh the two admin groups: "Partner staff" (scoped to the firm by the mixin)
    and "CloudRoute staff" (every permission on the product's own apps)."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    partner_group, _ = Group.objects.get_or_create(name=PARTNER_GROUP)
    wanted = Q(pk__in=[])
    for app_label, codenames in PARTNER_PERMISSIONS.items():
        wanted |= Q(content_type__app_label=app_label, codename__in=codenames)
    partner_group.permissions.set(Permission.objects.filter(wanted))
    staff_group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    staff_group.permissions.set(Permission.objects.filter(content_type__app_label__in=STAFF_APPS))
    return partner_group, staff_group


def cloudroute_staff_required(view):
    """Like staff_member_required, but a partner firm's login (also is_staff) is refused."""
    from functools import wraps

    from django.contrib.admin.views.decorators import staff_member_required
    from django.core.exceptions import PermissionDenied

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not is_cloudroute_staff(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return staff_member_required(guarded)
