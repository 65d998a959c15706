"""Matching API: partners read their engagements and work their ACE opportunity and credit
applications; staff read pools, partners and the pipeline figures. Every verb calls the same
service as the admin, and every list and object is scoped to the caller's firm."""
from __future__ import annotations

from datetime import timedelta
from datetime import timezone as dt_timezone

from django import forms
from django.db.models import Count, Prefetch, Q
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ID_PATTERN, Conflict

from . import filing, pipeline, services
from .models import (
    AceOpportunity,
    AceReviewStatus,
    BenefitStatus,
    CreditApplication,
    CreditPool,
    Engagement,
    EngagementStatus,
    Partner,
    PoolRule,
)
from .models.engagements import OCCUPYING_STATUSES
from .permissions import IsCloudRouteStaff, IsPartnerOrStaff
from .selectors import engagements_visible_to
from .serializers import (
    AceOpportunitySerializer,
    AceOpportunityUpdateSerializer,
    AceRecordSerializer,
    AceSubmitSerializer,
    CreditApplicationRecordSerializer,
    CreditApplicationSerializer,
    CreditApplicationUpdateSerializer,
    EngagementDeclineSerializer,
    EngagementSerializer,
    PartnerSerializer,
    PipelineFilterSerializer,
    PipelineSerializer,
    PoolSerializer,
)

DRAFT_REVIEW_STATUSES = (AceReviewStatus.PENDING_SUBMISSION, AceReviewStatus.ACTION_REQUIRED)
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
            .prefetch_related("matched_pools", "history")
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


class _FilingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                     viewsets.GenericViewSet):
    permission_classes = [IsPartnerOrStaff]
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "patch", "post", "head", "options"]

    def owner_partner_id(self, record) -> int | None:
        return record.engagement.partner_id

    def visible(self, qs):
        return qs.filter(engagement__in=engagements_visible_to(self.request).values("pk"))


class AceOpportunityFilter(filters.FilterSet):
    engagement = filters.NumberFilter(field_name="engagement_id")

    class Meta:
        model = AceOpportunity
        fields = ["stage", "review_status", "engagement"]


class AceOpportunityViewSet(_FilingViewSet):
    """The engagement's ACE opportunity: read it, edit the draft, submit it, record moves by hand."""

    serializer_class = AceOpportunitySerializer
    filterset_class = AceOpportunityFilter

    def get_queryset(self):
        return (
            self.visible(AceOpportunity.objects.select_related("engagement"))
            .prefetch_related("history")
            .order_by("-created_at", "-id")
        )

    def get_serializer_class(self):
        return AceOpportunityUpdateSerializer if self.action == "partial_update" else AceOpportunitySerializer

    @extend_schema(request=AceOpportunityUpdateSerializer, responses=AceOpportunitySerializer,
                   summary="Edit the draft's Partner Central fields")
    def partial_update(self, request, *args, **kwargs):
        opportunity = self.get_object()
        if opportunity.review_status not in DRAFT_REVIEW_STATUSES:
            raise Conflict(f"The opportunity is {opportunity.review_status}: only a draft can be edited.")
        data = AceOpportunityUpdateSerializer(opportunity, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        filing.ace_opportunity_update(opportunity=opportunity, fields=data.validated_data, by=request.user)
        return Response(AceOpportunitySerializer(self.get_queryset().get(pk=opportunity.pk)).data)

    @extend_schema(request=AceSubmitSerializer, responses=AceOpportunitySerializer,
                   summary="Validate and submit to Partner Central (or record a submission made by hand)")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        opportunity = self.get_object()
        data = AceSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        filing.ace_opportunity_submit(
            opportunity=opportunity, by=request.user,
            partner_central_id=data.validated_data.get("partner_central_id", ""),
        )
        return Response(AceOpportunitySerializer(self.get_queryset().get(pk=opportunity.pk)).data)

    @extend_schema(request=AceRecordSerializer, responses=AceOpportunitySerializer,
                   summary="Record a stage or review-status move made in Partner Central")
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        opportunity = self.get_object()
        data = AceRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        filing.ace_opportunity_record(opportunity=opportunity, by=request.user, **data.validated_data)
        return Response(AceOpportunitySerializer(self.get_queryset().get(pk=opportunity.pk)).data)


class CreditApplicationFilter(filters.FilterSet):
    engagement = filters.NumberFilter(field_name="engagement_id")
    pool = filters.CharFilter(field_name="pool__slug", max_length=50)

    class Meta:
        model = CreditApplication
        fields = ["status", "engagement", "pool"]


class CreditApplicationViewSet(_FilingViewSet):
    """One credit application per matched pool: read, set the amount, submit, record moves."""

    serializer_class = CreditApplicationSerializer
    filterset_class = CreditApplicationFilter

    def get_queryset(self):
        return (
            self.visible(CreditApplication.objects.select_related("engagement", "pool"))
            .prefetch_related("history")
            .order_by("-created_at", "-id")
        )

    @extend_schema(request=CreditApplicationUpdateSerializer, responses=CreditApplicationSerializer,
                   summary="Change the amount requested before submission")
    def partial_update(self, request, *args, **kwargs):
        application = self.get_object()
        data = CreditApplicationUpdateSerializer(application, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "amount_requested" in data.validated_data:
            filing.credit_application_amount_set(
                application=application, amount_requested=data.validated_data["amount_requested"], by=request.user
            )
        return Response(CreditApplicationSerializer(self.get_queryset().get(pk=application.pk)).data)

    @extend_schema(request=None, responses=CreditApplicationSerializer, summary="Submit the application")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        application = self.get_object()
        filing.credit_application_submit(application=application, by=request.user)
        return Response(CreditApplicationSerializer(self.get_queryset().get(pk=application.pk)).data)

    @extend_schema(request=CreditApplicationRecordSerializer, responses=CreditApplicationSerializer,
                   summary="Record a status move (approval with its amount)")
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        application = self.get_object()
        data = CreditApplicationRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        filing.credit_application_record(application=application, by=request.user, **data.validated_data)
        return Response(CreditApplicationSerializer(self.get_queryset().get(pk=application.pk)).data)


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


class PipelineApi(APIView):
    permission_classes = [IsCloudRouteStaff]

    @extend_schema(parameters=[PipelineFilterSerializer], responses=PipelineSerializer,
                   summary="Funnel, stage medians, per-partner figures, the unmatched queue and commission totals (staff)")
    def get(self, request):
        data = PipelineFilterSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        f = data.validated_data
        summary = pipeline.pipeline_summary(pipeline.PipelineFilters(
            date_from=f.get("date_from"), date_to=f.get("date_to"),
            partner_id=f.get("partner"), pool_id=f.get("pool"),
        ))

        def labelled(pairs):
            return [{"label": label, "amount": amount} for label, amount in pairs]

        return Response(PipelineSerializer({
            "funnel": summary.funnel,
            "median_days": labelled(summary.median_days),
            "commission_by_status": labelled(summary.commission_by_status),
            "commission_by_partner": labelled(summary.commission_by_partner),
            "partners": summary.partners,
            "unmatched_queue": summary.queue,
        }).data)
