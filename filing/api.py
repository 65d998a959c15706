"""Filing API: partners read and work their engagement's ACE opportunity and credit applications
(edit the draft, submit, record a move made in Partner Central); staff read the pipeline's figures
(intake to credits approved, and commission). Every verb calls the same service as the admin and the
workspace, and every list and object is scoped to the caller's firm."""
from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ID_PATTERN
from matching.permissions import IsCloudRouteStaff, IsPartnerOrStaff
from matching.selectors import engagements_visible_to

from . import ace, credit_applications, pipeline
from .models import AceOpportunity, CreditApplication
from .serializers import (
    AceOpportunitySerializer,
    AceOpportunityUpdateSerializer,
    AceRecordSerializer,
    AceSubmitSerializer,
    CreditApplicationRecordSerializer,
    CreditApplicationSerializer,
    CreditApplicationUpdateSerializer,
    PipelineFilterSerializer,
    PipelineSerializer,
)


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
        ace.ace_draft_required(opportunity)  # before the fields: a filed opportunity is a 409 whatever is sent
        data = AceOpportunityUpdateSerializer(opportunity, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        ace.ace_opportunity_update(opportunity=opportunity, fields=data.validated_data, by=request.user)
        return Response(AceOpportunitySerializer(self.get_queryset().get(pk=opportunity.pk)).data)

    @extend_schema(request=AceSubmitSerializer, responses=AceOpportunitySerializer,
                   summary="Validate and submit to Partner Central (or record a submission made by hand)")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        opportunity = self.get_object()
        data = AceSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ace.ace_opportunity_submit(
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
        ace.ace_opportunity_record(opportunity=opportunity, by=request.user, **data.validated_data)
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
            credit_applications.credit_application_amount_set(
                application=application, amount_requested=data.validated_data["amount_requested"], by=request.user
            )
        return Response(CreditApplicationSerializer(self.get_queryset().get(pk=application.pk)).data)

    @extend_schema(request=None, responses=CreditApplicationSerializer, summary="Submit the application")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        application = self.get_object()
        credit_applications.credit_application_submit(application=application, by=request.user)
        return Response(CreditApplicationSerializer(self.get_queryset().get(pk=application.pk)).data)

    @extend_schema(request=CreditApplicationRecordSerializer, responses=CreditApplicationSerializer,
                   summary="Record a status move (approval with its amount)")
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        application = self.get_object()
        data = CreditApplicationRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credit_applications.credit_application_record(application=application, by=request.user, **data.validated_data)
        return Response(CreditApplicationSerializer(self.get_queryset().get(pk=application.pk)).data)


# --- staff ----------------------------------------------------------------------------------------


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
