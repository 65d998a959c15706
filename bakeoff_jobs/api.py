"""Bake-off API for partners and staff: the model catalog, eval set upload (size and row limits
checked before the file is parsed), launch, progress, report and cancel. Everything is scoped to
the caller's firm through the selectors the admin uses."""
from __future__ import annotations

from django.conf import settings
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.api import ID_PATTERN, Conflict, PayloadTooLarge
from matching.permissions import IsPartnerOrStaff
from matching.roles import access_of
from matching.selectors import engagements_visible_to

from . import services
from .catalog_models import CatalogModel
from .models import BakeoffRun, EvalSet, RunStatus
from .selectors import eval_sets_visible_to, run_progress, runs_visible_to
from .serializers import (
    BakeoffLaunchSerializer,
    BakeoffReportSerializer,
    BakeoffRunSerializer,
    CatalogModelSerializer,
    EvalSetSerializer,
    EvalSetUploadSerializer,
    RunProgressSerializer,
)

MULTIPART_OVERHEAD_BYTES = 64 * 1024  # form boundaries and the other fields around the file


class CatalogModelViewSet(viewsets.ReadOnlyModelViewSet):
    """The models a bake-off can compare: Bedrock's, with their current prices, and the self-hosted
    entries the caller may use (staff-managed and its firm's own), with their GPUs and hourly price."""

    serializer_class = CatalogModelSerializer
    permission_classes = [IsPartnerOrStaff]
    lookup_value_regex = ID_PATTERN
    filterset_fields = ["kind", "family", "tier", "weights", "is_active"]

    def get_queryset(self):
        # Staff-managed entries and the caller's firm's own: another firm's id answers as a missing one.
        return (CatalogModel.objects.visible_to(self.request).select_related("self_hosted")
                .order_by("family", "tier", "name", "id"))

    def owner_partner_id(self, model: CatalogModel) -> int | None:
        # Staff-managed entries are shared by every firm; a firm's own entry is that firm's.
        return model.owner_partner_id or access_of(self.request).partner_id


def _count_lines(upload) -> int:
    lines, last = 0, b"\n"
    for chunk in upload.chunks():
        lines += chunk.count(b"\n")
        last = chunk[-1:] or last
    return lines + (0 if last == b"\n" else 1)


class EvalSetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     viewsets.GenericViewSet):
    """Eval sets uploaded by the caller's firm."""

    serializer_class = EvalSetSerializer
    permission_classes = [IsPartnerOrStaff]
    lookup_value_regex = ID_PATTERN
    filterset_fields = ["engagement"]

    def get_queryset(self):
        return eval_sets_visible_to(self.request).order_by("-created_at", "-id")

    parser_classes = [MultiPartParser, FormParser]  # only the upload takes a body

    def owner_partner_id(self, eval_set: EvalSet) -> int | None:
        return eval_set.partner_id

    @extend_schema(request={"multipart/form-data": EvalSetUploadSerializer}, responses={201: EvalSetSerializer},
                   summary="Upload an eval set (JSONL, JSON or CSV)", extensions={"x-errors": ["413"]})
    def create(self, request, *args, **kwargs):
        max_bytes = settings.EVALSET_UPLOAD_MAX_BYTES
        max_rows = settings.EVALSET_UPLOAD_MAX_ROWS
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_bytes + MULTIPART_OVERHEAD_BYTES:  # refused before the body is read
            raise PayloadTooLarge(f"The upload is {length:,} bytes; eval sets are limited to {max_bytes:,} bytes.")
        form = EvalSetUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        if upload.size > max_bytes:
            raise PayloadTooLarge(f"The file is {upload.size:,} bytes; eval sets are limited to {max_bytes:,} bytes.")
        lines = _count_lines(upload)
        # A CSV header is one more line than its rows.
        if lines > max_rows + 1:
            raise PayloadTooLarge(f"The file has {lines:,} lines; eval sets are limited to {max_rows:,} rows.")
        engagement = None
        if "engagement" in form.validated_data:
            engagement = engagements_visible_to(request).filter(pk=form.validated_data["engagement"]).first()
            if engagement is None:
                raise exceptions.ValidationError({"engagement": ["No engagement of yours has this id."]})
        partner = access_of(request).partner
        upload.seek(0)
        try:
            eval_set = services.evalset_upload(
                name=form.validated_data["name"], data=upload.read(), filename=upload.name,
                partner=partner or (engagement.partner if engagement else None), engagement=engagement,
                owner=request.user,
            )
        except services.EvalSetInvalid:
            raise  # every bad row, per line, under "file" (core.api.exception_handler)
        except services.BakeoffError as exc:
            raise exceptions.ValidationError({"file": [str(exc)]}) from exc
        return Response(EvalSetSerializer(eval_set).data, status=status.HTTP_201_CREATED)


def _launch_field(message: str) -> str:
    """Which launch field a refusal from bakeoff_launch is about."""
    if "batch" in message.lower():
        return "batch"
    if "judge" in message:
        return "judge"
    if "eval set" in message:
        return "eval_set"
    return "models"


class BakeoffRunFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = BakeoffRun
        fields = ["status", "engagement", "eval_set"]


class BakeoffRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        viewsets.GenericViewSet):
    """Bake-off runs of the caller's firm: launch, follow progress, read the report, cancel."""

    serializer_class = BakeoffRunSerializer
    permission_classes = [IsPartnerOrStaff]
    lookup_value_regex = ID_PATTERN
    filterset_class = BakeoffRunFilter

    def get_queryset(self):
        return runs_visible_to(self.request).prefetch_related("run_models__catalog_model").order_by(
            "-created_at", "-id"
        )

    def owner_partner_id(self, run: BakeoffRun) -> int | None:
        return run.partner_id

    @extend_schema(request=BakeoffLaunchSerializer, responses={201: BakeoffRunSerializer},
                   summary="Launch a bake-off of two or more models on an eval set")
    def create(self, request, *args, **kwargs):
        form = BakeoffLaunchSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        eval_set = eval_sets_visible_to(request).filter(pk=data["eval_set"]).first()
        if eval_set is None:
            raise exceptions.ValidationError({"eval_set": ["No eval set of yours has this id."]})
        access = access_of(request)
        if not access.is_staff and eval_set.partner_id != access.partner_id:
            raise exceptions.PermissionDenied()
        try:
            run = services.bakeoff_launch(
                eval_set=eval_set, models=data["models"], temperature=data["temperature"],
                max_tokens=data["max_tokens"], judge=data.get("judge"),
                cache_system_prompt=data["cache_system_prompt"], created_by=request.user, batch=data["batch"],
            )
        except services.BakeoffError as exc:
            raise exceptions.ValidationError({_launch_field(str(exc)): [str(exc)]}) from exc
        return Response(BakeoffRunSerializer(self.get_queryset().get(pk=run.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=RunProgressSerializer, summary="Progress (cheap to poll)")
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        run = self.get_object()
        return Response(RunProgressSerializer(run_progress(run_id=run.pk)).data)

    @extend_schema(responses=BakeoffReportSerializer, summary="The report of a finished run",
                   extensions={"x-errors": ["409"]})
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        run = self.get_object()
        if run.status != RunStatus.FINISHED or run.report is None:
            raise Conflict(f"The run is {run.get_status_display().lower()}: its report is not ready.")
        return Response(BakeoffReportSerializer({"id": run.pk, "status": run.status, "report": run.report}).data)

    @extend_schema(request=None, responses=BakeoffRunSerializer, summary="Cancel (stored results are kept)")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        run = self.get_object()
        if not services.bakeoff_cancel(run=run, by=request.user):
            raise Conflict(f"The run is {run.get_status_display().lower()}: it cannot be cancelled.")
        return Response(BakeoffRunSerializer(self.get_queryset().get(pk=run.pk)).data)
