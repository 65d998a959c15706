"""Bake-off API serializers: the catalog, eval set upload, launch, run progress and report."""
from __future__ import annotations

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .catalog_models import CatalogModel
from .models import BakeoffRun, EvalSet, RunModel


class SelfHostedSerializer(serializers.Serializer):
    """A self-hosted entry's GPUs and price; never its URL or API key."""

    served_model_name = serializers.CharField()
    gpu_type = serializers.CharField()
    gpu_count = serializers.IntegerField()
    gpu_hour_price = serializers.DecimalField(max_digits=12, decimal_places=6)
    hosting = serializers.CharField()


class CatalogModelSerializer(serializers.ModelSerializer):
    own = serializers.SerializerMethodField(help_text="The caller's firm's own entry (not staff-managed).")
    self_hosted = serializers.SerializerMethodField()

    class Meta:
        model = CatalogModel
        fields = [
            "id", "name", "model_id", "kind", "own", "inference_profile_id", "family", "tier", "weights",
            "input_per_1m", "output_per_1m", "cache_read_per_1m", "cache_write_per_1m", "batch_discount",
            "effective_date", "is_active", "lifecycle_status", "end_of_life_date", "batch_supported",
            "max_concurrency", "self_hosted",
        ]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_own(self, model: CatalogModel) -> bool:
        return model.owner_partner_id is not None

    @extend_schema_field(SelfHostedSerializer(allow_null=True))
    def get_self_hosted(self, model: CatalogModel) -> dict | None:
        endpoint = getattr(model, "self_hosted", None) if model.kind == "self_hosted" else None
        return SelfHostedSerializer(endpoint).data if endpoint is not None else None


class EvalSetSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvalSet
        fields = ["id", "name", "filename", "partner", "engagement", "case_count", "created_at"]


class EvalSetUploadSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    file = serializers.FileField(help_text="JSONL, JSON or CSV: prompt, expected, scorer, and optional "
                                           "system_prompt, category, scorer_options.")
    engagement = serializers.IntegerField(required=False, min_value=1,
                                          help_text="The engagement the eval set belongs to (yours).")


class RunModelSerializer(serializers.ModelSerializer):
    model_id = serializers.CharField(source="catalog_model.model_id")
    name = serializers.CharField(source="catalog_model.name")

    class Meta:
        model = RunModel
        fields = ["model_id", "name", "role", "kind", "invoked_id", "input_per_1m", "output_per_1m",
                  "prices_effective_date", "gpu_type", "gpu_count", "gpu_hour_price", "hosting"]


class BakeoffRunSerializer(serializers.ModelSerializer):
    models = RunModelSerializer(source="run_models", many=True, read_only=True)

    class Meta:
        model = BakeoffRun
        fields = [
            "id", "eval_set", "engagement", "partner", "status", "temperature", "max_tokens", "bar_points",
            "cache_system_prompt", "sandbox", "mode", "total_pairs", "done_count", "failed_count", "estimated_cost_usd",
            "estimated_cost_max_usd",
            "error", "models", "created_at", "started_at", "finished_at",
        ]


class BakeoffLaunchSerializer(serializers.Serializer):
    eval_set = serializers.IntegerField(min_value=1)
    models = serializers.ListField(
        child=serializers.CharField(max_length=200), min_length=2, max_length=10,
        help_text="Catalog model ids (or inference-profile ids; a global. profile id runs at the listed "
                  "rate), at least two. Models past end of life on Bedrock are refused.",
    )
    temperature = serializers.DecimalField(max_digits=3, decimal_places=2, min_value=Decimal("0"),
                                           max_value=Decimal("1"), default=Decimal("0"))
    max_tokens = serializers.IntegerField(min_value=1, max_value=8192, default=512)
    judge = serializers.CharField(max_length=200, required=False, help_text="Judge model id for llm_judge cases.")
    cache_system_prompt = serializers.BooleanField(default=False)
    batch = serializers.BooleanField(
        default=False, help_text="Run each model as a Bedrock batch inference job at the batch price (every model "
                                 "must offer batch; the eval set needs at least BAKEOFF_BATCH_MIN_RECORDS cases).")


class RunProgressSerializer(serializers.Serializer):
    status = serializers.CharField()
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    remaining = serializers.IntegerField()
    finished = serializers.BooleanField()


class BakeoffReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    report = serializers.JSONField(help_text="The stored report (see README: bake-off report keys).")
