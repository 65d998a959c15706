"""Matching API: partners read, accept and decline their engagements; staff read pools and
partners. Every verb calls the same service as the admin, and every list and object is scoped to
the caller's firm. The ACE opportunity, credit applications and the pipeline's figures are
filing.api's."""
from __future__ import annotations

from datetime import timedelta
from datetime import timezone as dt_timezone

from django import forms
from django.db.models import Count, Prefetch, Q
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ID_PATTERN

from . import services
from .models import (
    CreditPool,
    Engagement,
    EngagementStatus,
    Partner,
    PoolRule,
)
from .models.engagements import OCCUPYING_STATUSES
from .permissions import IsCloudRouteStaff, IsPartnerOrStaff
from .selectors import engagement_history_visible_to, engagements_visible_to
from .serializers import (
    EngagementDeclineSerializer,
    EngagementSerializer,
    PartnerSerializer,
    PoolSerializer,
)

MAX_UTC_OFFSET = timedelta(hours=14)  # the widest real time zone; databases refuse wider ones


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 timestamp with a real-world offset, handed to the query in UTC."""

    def clean(self, value):
        moment = super().clean(value)
        if moment is None:
            return None
        offset = moment.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise forms.ValidationError("Time zone offset must be between -14:00 and +14:00.")
        try:
            return moment.astimezone(dt_timezone.utc)
        except OverflowError:
            raise forms.ValidationError("Date is out of range.") from None


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class EngagementFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=EngagementStatus.choices)
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    company = filters.CharFilter(field_name="intake__company_name", lookup_expr="icontains", max_length=200)

    class Meta:
        model = Engagement
        fields = ["status", "partner"]


class EngagementViewSet(viewsets.ReadOnlyModelViewSet):
    """The caller's firm's engagements (all of them for staff)."""

    serializer_class = EngagementSerializer
    permission_classes = [IsPartnerOrStaff]
    lookup_value_regex = ID_PATTERN
    filterset_class = EngagementFilter

    def get_queryset(self):
        return (
            engagements_visible_to(self.request)
            .select_related("ace_opportunity")
            .prefetch_related("matched_pools", Prefetch("history", queryset=engagement_history_visible_to(self.request)))
            .order_by("-created_at", "-id")
        )

    def owner_partner_id(self, engagement: Engagement) -> int | None:
        return engagement.partner_id

    def _respond(self, engagement: Engagement) -> Response:
        return Response(EngagementSerializer(self.get_queryset().get(pk=engagement.pk)).data)

    @extend_schema(request=None, responses=EngagementSerializer, summary="Accept the match")
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        engagement = services.engagement_accept(engagement=self.get_object(), by=request.user)
        return self._respond(engagement)

    @extend_schema(
        request=EngagementDeclineSerializer,
        responses={200: EngagementSerializer, 204: OpenApiResponse(description="Declined and re-matched with another firm.")},
        summary="Decline the match",
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        engagement = self.get_object()
        data = EngagementDeclineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.engagement_decline(engagement=engagement, by=request.user, reason=data.validated_data["reason"])
        # After a decline the engagement usually belongs to another firm: answer with what the
        # caller may still see.
        visible = self.get_queryset().filter(pk=engagement.pk).first()
        if visible is None:
            return Response(status=204)
        return Response(EngagementSerializer(visible).data)


# --- staff ----------------------------------------------------------------------------------------


class _StaffReadOnly(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsCloudRouteStaff]  # staff-wide records: no per-object owner
    lookup_value_regex = ID_PATTERN


class PoolFilter(filters.FilterSet):
    class Meta:
        model = CreditPool
        fields = ["is_active", "filing_route"]


class PoolViewSet(_StaffReadOnly):
    """Credit pools with their live rules and latest published rule version (staff)."""

    serializer_class = PoolSerializer
    filterset_class = PoolFilter
    queryset = CreditPool.objects.prefetch_related(
        Prefetch("rules", queryset=PoolRule.objects.order_by("position", "id")), "rule_versions"
    ).order_by("position", "name", "id")


class PartnerFilter(filters.FilterSet):
    class Meta:
        model = Partner
        fields = ["is_vetted", "is_active"]


class PartnerViewSet(_StaffReadOnly):
    """The partner roster with how many engagements each is working (staff)."""

    serializer_class = PartnerSerializer
    filterset_class = PartnerFilter
    queryset = Partner.objects.annotate(
        open_engagements=Count("engagements", filter=Q(engagements__status__in=OCCUPYING_STATUSES))
    ).order_by("name", "id")
