"""One scoping rule for every admin page: CloudRoute staff see everything; a partner firm's login
sees only its own firm's rows (lists, detail, history, delete, search, filters, autocomplete and
foreign-key choices), and never staff-only models, fields, filters, inlines or actions."""
from __future__ import annotations

import functools
from collections.abc import Sequence

from django.http import Http404

from .roles import PARTNER_GROUP, STAFF_GROUP, access_of, scope_to

__all__ = ["PARTNER_GROUP", "STAFF_GROUP", "PartnerScopedAdminMixin", "admin_groups_ensure", "cloudroute_staff_required",
           "permission_require"]


def _filter_name(entry) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, (list, tuple)):
        return entry[0]
    return getattr(entry, "parameter_name", "") or entry.__name__


def _related_only(model, entry):
    """A partner's filter on a relation offers only the related rows its own (scoped) list holds:
    Django's RelatedFieldListFilter would list every row of the related table (every firm's
    engagements, eval sets or partners) as choices."""
    from django.contrib.admin import RelatedFieldListFilter, RelatedOnlyFieldListFilter
    from django.contrib.admin.utils import NotRelationField, get_fields_from_path
    from django.core.exceptions import FieldDoesNotExist

    if isinstance(entry, str):
        name = entry
    elif isinstance(entry, (list, tuple)) and entry[1] is RelatedFieldListFilter:
        name = entry[0]
    else:
        return entry  # a filter class of the admin's own, or already RelatedOnlyFieldListFilter
    try:
        field = get_fields_from_path(model, name)[-1]
    except (FieldDoesNotExist, NotRelationField):
        return entry  # Django's own checks report a bad filter name
    return (name, RelatedOnlyFieldListFilter) if field.is_relation else entry


# What Django's list filters and date hierarchy append to a field path in their query parameters.
FILTER_PARAMETER_PARTS = frozenset({"exact", "isnull", "id", "pk", "in", "gte", "lt", "year", "month", "day"})


def _unscoped(request) -> bool:
    """CloudRoute staff see every row, field, filter and action; anyone else is scoped."""
    return access_of(request).is_staff


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
        return scope_to(super().get_queryset(request), request, self.partner_path)

    def get_object(self, request, object_id, from_field=None):
        # Another firm's id is simply not found (a 404, never a redirect that confirms it exists).
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("Not found.")
        return obj

    # --- permissions --------------------------------------------------------------------------
    def _partner_may(self, request, obj, *, write: bool) -> bool:
        access = access_of(request)
        if access.is_staff:
            return True
        if not access.is_partner:
            return False  # no role: no module, no rows, no form, whatever the Django permissions
        if self.partner_path is None or (write and self.partner_read_only):
            return False
        if obj is not None and obj.pk is not None and self.partner_path:
            return self.get_queryset(request).filter(pk=obj.pk).exists()
        return True

    def has_module_permission(self, request):
        access = access_of(request)
        if not access.is_staff and (not access.is_partner or self.partner_path is None):
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
        if _unscoped(request):
            return fields
        return [f for f in fields if f not in self.staff_only_fields]

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        if _unscoped(request):
            return columns
        return [c for c in columns if c not in self.staff_only_fields]

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if _unscoped(request):
            return filters
        hidden = set(self.staff_only_filters) | set(self.staff_only_fields)
        return [_related_only(self.model, f) for f in filters if _filter_name(f) not in hidden]

    def lookup_allowed(self, lookup, value, request=None):
        """A partner may filter a changelist only through the filters it is shown (and the date
        hierarchy), with the parameters Django's filters write: no lookup of its own making, so
        no private field (a founder's status token) can be probed by prefix, and no relation
        walked to another firm's rows."""
        if request is not None and not _unscoped(request) and not self._partner_lookup_allowed(lookup, request):
            return False
        return super().lookup_allowed(lookup, value, request)

    def _partner_lookup_allowed(self, lookup: str, request) -> bool:
        shown = {_filter_name(f) for f in self.get_list_filter(request)} - set(self.staff_only_fields)
        if self.date_hierarchy:
            shown.add(self.date_hierarchy)
        for name in shown:
            if lookup == name:
                return True
            if lookup.startswith(name + "__"):
                suffix = lookup[len(name) + 2:].split("__")
                if set(suffix) <= FILTER_PARAMETER_PARTS:
                    return True
        return False

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if _unscoped(request):
            return fields
        return [f for f in fields if f.split("__")[0] not in self.staff_only_fields]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not _unscoped(request):
            for name in self.staff_only_actions:
                actions.pop(name, None)
        return actions

    def get_inlines(self, request, obj):
        if not _unscoped(request) and self.partner_inlines is not None:
            return self.partner_inlines
        return super().get_inlines(request, obj)

    def get_inline_instances(self, request, obj=None):
        # Every inline, whatever admin class it is, offers a partner's forms only the rows the
        # partner may see, as this admin's own fields do (an inline is no ModelAdmin of this mixin).
        inlines = super().get_inline_instances(request, obj)
        for inline in inlines:
            if not isinstance(inline, ScopedInlineChoices):
                inline.__class__ = _with_scoped_choices(type(inline))
        return inlines

    # --- no Save buttons on a form where nothing can be changed ---------------------------------
    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and not _form_editable(context):
            context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    # --- choices in forms: only rows the login may see ----------------------------------------
    def _scoped_choices(self, db_field, request, kwargs):
        _scope_choices(self.admin_site, db_field, request, kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _scope_choices(admin_site, db_field, request, kwargs) -> None:
    """A record field's choices for a partner: the rows the related model's admin shows it, none
    when that model has no scoped admin."""
    if _unscoped(request) or "queryset" in kwargs:
        return
    related_admin = admin_site._registry.get(db_field.related_model)
    if isinstance(related_admin, PartnerScopedAdminMixin):
        kwargs["queryset"] = related_admin.get_queryset(request)
    else:
        kwargs["queryset"] = db_field.related_model._default_manager.none()


class ScopedInlineChoices:
    """Put into every inline of a scoped admin by PartnerScopedAdminMixin.get_inline_instances."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        _scope_choices(self.admin_site, db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        _scope_choices(self.admin_site, db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@functools.cache
def _with_scoped_choices(inline_class):
    return type(inline_class.__name__, (ScopedInlineChoices, inline_class), {"__module__": inline_class.__module__})


def _form_editable(context) -> bool:
    """Whether a change form has anything a person can change: a visible field, or an inline that
    can add, delete or edit rows."""
    adminform = context.get("adminform")
    if adminform is not None and any(not f.is_hidden for f in adminform.form):
        return True
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        if inline.has_add_permission or formset.can_delete and inline.has_delete_permission:
            return True
        if inline.has_change_permission and any(not f.is_hidden for form in formset.forms for f in form):
            return True
    return False


# What a partner firm's login may do in the admin; rows are scoped by the mixin above.
PARTNER_PERMISSIONS: dict[str, list[str]] = {
    "intake": ["view_intake"],
    "matching": ["view_engagement", "change_engagement", "view_poolverdict"],
    "filing": ["view_aceopportunity", "add_aceopportunity", "change_aceopportunity", "view_creditapplication",
               "change_creditapplication", "view_commission"],
    "bakeoff_jobs": ["view_catalogmodel", "view_evalset", "add_evalset", "view_bakeoffrun", "add_bakeoffrun",
                     "change_bakeoffrun", "view_bakeoffresult",
                     # the firm's own self-hosted endpoints (another firm's are never listed)
                     "view_selfhostedentry", "add_selfhostedentry", "change_selfhostedentry",
                     "delete_selfhostedentry"],
}
STAFF_APPS = ["intake", "matching", "filing", "bakeoff_jobs"]


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
    """A page for CloudRoute staff only: anonymous visitors are sent to the admin login, any other
    login (a partner, or a login with no role) is refused with 403."""
    return role_required(view, staff_only=True)


def partner_or_staff_required(view):
    """A page for a partner firm's logins and CloudRoute staff; other logins get 403."""
    return role_required(view, staff_only=False)


def role_required(view, *, staff_only: bool):
    from functools import wraps

    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied
    from django.urls import reverse

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        access = access_of(request)
        if not (access.is_staff or (access.is_partner and not staff_only)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


def permission_require(request, perm: str) -> None:
    """Inside a page behind partner_or_staff_required: refuse (403) a login without the Django
    permission `perm` ("app_label.codename"), e.g. before a change it may not make."""
    from django.core.exceptions import PermissionDenied

    if not request.user.has_perm(perm):
        raise PermissionDenied
