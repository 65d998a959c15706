"""Record choices scoped to the role, wherever the API offers them: a filter that names a record
(engagement, eval set, partner...) offers only the records the caller may read, so another firm's
id is refused exactly as an id that does not exist ("Select a valid choice"); the answer never tells
which ids exist. The same goes for a serializer's record fields (scope_serializer): the browsable
API's forms list only the caller's records as options."""
from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django_filters import rest_framework as filters

from .roles import scope_to


def partner_path(model) -> str | None:
    """How the model's rows belong to a firm, as the admin declares it (PartnerScopedAdminMixin):
    a lookup to the Partner, "" for reference data every firm reads, None for staff-only data."""
    from django.contrib import admin

    from .models import Partner

    if model is Partner:
        return "pk"
    model_admin = admin.site._registry.get(model)
    return getattr(model_admin, "partner_path", None)


def scope_filterset(filterset, request) -> None:
    for filter_ in filterset.filters.values():
        if isinstance(filter_, (filters.ModelChoiceFilter, filters.ModelMultipleChoiceFilter)):
            queryset = filter_.queryset
            if callable(queryset):
                queryset = queryset(request)
            if queryset is None:
                raise ImproperlyConfigured(f"{type(filterset).__name__}: give the record filter a queryset to scope.")
            filter_.queryset = scope_to(queryset, request, partner_path(queryset.model))


def scope_serializer(serializer, request) -> None:
    """Narrow every record field of `serializer` (nested ones and list children included) to the
    rows `request`'s login may read, as the admin scopes them: what its form offers as choices and
    what it accepts as input. Staff-only models offer partners nothing."""
    from rest_framework import relations, serializers

    child = getattr(serializer, "child", None)
    if isinstance(serializer, serializers.ListSerializer) and child is not None:
        scope_serializer(child, request)
        return
    if not isinstance(serializer, serializers.Serializer):
        return
    for field in serializer.fields.values():
        if isinstance(field, relations.ManyRelatedField):
            field = field.child_relation
        if isinstance(field, relations.RelatedField):
            if field.queryset is not None:
                field.queryset = scope_to(field.queryset.all(), request, partner_path(field.queryset.model))
        elif isinstance(field, serializers.BaseSerializer):
            scope_serializer(field, request)


class RoleScopedFilterBackend(filters.DjangoFilterBackend):
    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            scope_filterset(filterset, request)
        return filterset
