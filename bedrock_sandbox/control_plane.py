"""The two control-plane reads the catalog sync makes (ListFoundationModels, ListInferenceProfiles),
answered from the published model list, so ``manage.py sync_catalog`` works on the embedded default."""
from __future__ import annotations

from typing import Any

from bakeoff_jobs.model_data import END_OF_LIFE, PublishedModel

from .config import SandboxError

CONTROL_REGION = "us-east-1"
CONTROL_ACCOUNT = "000000000000"
_EPOCH_LAUNCH = "2025-01-01T00:00:00Z"


def _model_arn(model_id: str) -> str:
    return f"arn:aws:bedrock:{CONTROL_REGION}::foundation-model/{model_id}"


def foundation_model_summaries(models: list[PublishedModel], query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """ListFoundationModels as Bedrock answers it: models past end of life are no longer listed."""
    summaries = []
    for model in models:
        if model.lifecycle == END_OF_LIFE:
            continue
        lifecycle: dict[str, Any] = {"status": "LEGACY" if model.lifecycle == "legacy" else "ACTIVE"}
        if model.end_of_life_date is not None:
            lifecycle["endOfLifeTime"] = f"{model.end_of_life_date.isoformat()}T00:00:00Z"
        summary = {
            "modelArn": _model_arn(model.model_id),
            "modelId": model.model_id,
            "modelName": model.name,
            "providerName": model.provider,
            "inputModalities": list(model.input_modalities),
            "outputModalities": ["TEXT"],
            "responseStreamingSupported": True,
            "customizationsSupported": [],
            "inferenceTypesSupported": list(model.inference_types),
            "modelLifecycle": lifecycle,
        }
        if "byProvider" in query and summary["providerName"].lower() != query["byProvider"][0].lower():
            continue
        if "byInferenceType" in query and query["byInferenceType"][0] not in summary["inferenceTypesSupported"]:
            continue
        if "byOutputModality" in query and query["byOutputModality"][0] not in summary["outputModalities"]:
            continue
        summaries.append(summary)
    return summaries


def inference_profile_summaries(models: list[PublishedModel]) -> list[dict[str, Any]]:
    """System-defined inference profiles (us. and global.) of the models Bedrock still serves."""
    summaries = []
    for model in models:
        if model.lifecycle == END_OF_LIFE:
            continue
        for profile_id in model.profile_ids:
            scope = profile_id.split(".", 1)[0]
            regions = ("us-east-1", "us-east-2", "us-west-2") if scope == "us" else (CONTROL_REGION,)
            summaries.append({
                "inferenceProfileName": f"{scope.upper()} {model.name}",
                "description": f"Routes requests to {model.name} {'in any commercial region' if scope == 'global' else 'across US regions'}.",
                "createdAt": _EPOCH_LAUNCH,
                "updatedAt": _EPOCH_LAUNCH,
                "inferenceProfileArn": f"arn:aws:bedrock:{CONTROL_REGION}:{CONTROL_ACCOUNT}:inference-profile/{profile_id}",
                "models": [{"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model.model_id}"}
                           for region in regions],
                "inferenceProfileId": profile_id,
                "status": "ACTIVE",
                "type": "SYSTEM_DEFINED",
            })
    return summaries


def list_inference_profiles(models: list[PublishedModel], query: dict[str, list[str]]) -> dict[str, Any]:
    kind = (query.get("type") or ["SYSTEM_DEFINED"])[0]
    summaries = [s for s in inference_profile_summaries(models) if s["type"] == kind]
    try:
        start = int((query.get("nextToken") or ["0"])[0])
        size = int((query.get("maxResults") or ["1000"])[0])
    except ValueError:
        raise SandboxError("ValidationException", "nextToken and maxResults must be numbers.") from None
    if not 1 <= size <= 1000:
        raise SandboxError("ValidationException", "maxResults must be between 1 and 1000.")
    page: dict[str, Any] = {"inferenceProfileSummaries": summaries[start:start + size]}
    if start + size < len(summaries):
        page["nextToken"] = str(start + size)
    return page

