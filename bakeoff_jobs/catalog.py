"""The model catalog: seeded from the published price list (data/bedrock-models.csv), kept in step
with Bedrock's control plane (ListFoundationModels, ListInferenceProfiles) by ``catalog_sync``.
A sync changes lifecycle, inference types, modalities and profiles, never prices: those are
staff-edited with their effective date, and every change is written to CatalogChange."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .converse import aws_client_kwargs
from .model_data import (
    DEFAULT_CSV,
    GEO_PREFIXES,
    min_cache_tokens,
    profile_price_factor,
    published_models,
    requires_profile,
    split_invoked_id,
)
from .catalog_models import CatalogChange, CatalogKind, CatalogModel, InferenceProfile, Lifecycle

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_CSV", "SEED_EFFECTIVE_DATE", "catalog_load", "catalog_sync", "min_cache_tokens", "rows_from_csv"]

# Date the seed prices were read from the Bedrock pricing page.
SEED_EFFECTIVE_DATE = dt.date(2025, 11, 1)

@dataclass(frozen=True)
class LoadSummary:
    created: int
    updated: int


def rows_from_csv(text: str) -> list[dict]:
    """Catalog fields per published row (model_id included; profiles under "profiles")."""
    rows = []
    for model in published_models(text):
        rows.append(
            {
                "model_id": model.model_id,
                "name": model.name,
                "family": model.family,
                "tier": model.tier,
                "weights": model.weights,
                "input_per_1m": model.input_per_1m,
                "output_per_1m": model.output_per_1m,
                "cache_read_per_1m": model.cache_read_per_1m,
                "cache_write_per_1m": model.cache_write_per_1m,
                "batch_discount": model.batch_discount,
                "context_window": model.context_window,
                "inference_profile_id": model.geo_profile_id,
                "requires_profile": bool(model.geo_profile_id) and model.requires_profile,
                "profile_price_factor": profile_price_factor(model.model_id, model.geo_profile_id),
                "inference_types": sorted(model.inference_types),
                "input_modalities": list(model.input_modalities),
                "output_modalities": ["TEXT"],
                "batch_supported": model.batch_supported,
                "lifecycle_status": model.lifecycle,
                "end_of_life_date": model.end_of_life_date,
                "profiles": model.profile_ids,
            }
        )
    return rows


def _store_profiles(entry: CatalogModel, profile_ids: list[str]) -> None:
    for profile_id in profile_ids:
        InferenceProfile.objects.get_or_create(profile_id=profile_id, defaults={"catalog_model": entry})


@transaction.atomic
def catalog_load(*, path: Path | str = DEFAULT_CSV, effective_date: dt.date = SEED_EFFECTIVE_DATE,
                 update_existing: bool = False) -> LoadSummary:
    """Create a catalog row per CSV line. Existing rows keep staff edits unless update_existing."""
    created = updated = 0
    for row in rows_from_csv(Path(path).read_text(encoding="utf-8")):
        model_id = row.pop("model_id")
        profiles = row.pop("profiles")
        existing = CatalogModel.objects.filter(model_id=model_id).first()
        if existing is None:
            entry = CatalogModel(model_id=model_id, effective_date=effective_date, **row)
            entry.full_clean()
            entry.save()
            _store_profiles(entry, profiles)
            created += 1
        elif update_existing:
            before = _tracked(existing)
            for key, value in row.items():
                setattr(existing, key, value)
            existing.effective_date = effective_date
            existing.full_clean()
            existing.save()
            _store_profiles(existing, profiles)
            _record(existing, before, source=CatalogChange.Source.SEED, note=f"reloaded from {Path(path).name}")
            updated += 1
    return LoadSummary(created=created, updated=updated)


# --------------------------------------------------------------------------- history

TRACKED_FIELDS = (
    "name", "inference_profile_id", "requires_profile", "profile_price_factor", "input_per_1m", "output_per_1m",
    "cache_read_per_1m", "cache_write_per_1m", "batch_discount", "batch_supported", "effective_date",
    "is_active", "lifecycle_status", "end_of_life_date", "inference_types", "input_modalities",
    "output_modalities", "listed_by_bedrock", "max_concurrency", "requests_per_minute", "tokens_per_minute",
)
PRICE_FIELDS = ("input_per_1m", "output_per_1m", "cache_read_per_1m", "cache_write_per_1m", "batch_discount",
                "profile_price_factor")


def _plain(value: Any) -> Any:
    """JSON-able and comparable: 0.80 and 0.800000 are the same price."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _tracked(entry: CatalogModel) -> dict[str, Any]:
    return {name: _plain(getattr(entry, name)) for name in TRACKED_FIELDS}


def catalog_diff(before: dict[str, Any], entry: CatalogModel) -> dict[str, list]:
    after = _tracked(entry)
    return {name: [before[name], after[name]] for name in TRACKED_FIELDS if before.get(name) != after[name]}


def _record(entry: CatalogModel, before: dict[str, Any], *, source: str, note: str = "", by=None,
            extra: dict[str, list] | None = None) -> CatalogChange | None:
    changes = {**catalog_diff(before, entry), **(extra or {})}
    if not changes:
        return None
    return CatalogChange.objects.create(catalog_model=entry, source=source, changes=changes, note=note,
                                        changed_by=by)


@transaction.atomic
def catalog_edit(*, entry: CatalogModel, before: dict[str, Any], by=None) -> CatalogChange | None:
    """Save a staff edit and record what it changed. A price edit needs a new effective date:
    the old prices stay in the history under theirs, and runs keep the prices they froze."""
    changes = catalog_diff(before, entry)
    if any(name in changes for name in PRICE_FIELDS) and "effective_date" not in changes:
        raise ValueError("Prices changed: give the date the new prices take effect (effective date).")
    entry.full_clean()
    entry.save()
    return _record(entry, before, source=CatalogChange.Source.STAFF, by=by)


def catalog_history_start(entry: CatalogModel) -> dict[str, Any]:
    """The tracked values before an edit (pass to catalog_edit)."""
    return _tracked(entry)


# --------------------------------------------------------------------------- sync with Bedrock


@dataclass
class SyncSummary:
    models_listed: int = 0
    profiles_listed: int = 0
    changed: dict[str, dict[str, list]] = field(default_factory=dict)  # model id -> {field: [old, new]}
    not_in_catalog: list[str] = field(default_factory=list)  # listed by Bedrock, no staff price yet

    def lines(self) -> list[str]:
        out = [f"Bedrock lists {self.models_listed} models and {self.profiles_listed} inference profiles."]
        for model_id, changes in self.changed.items():
            text = "; ".join(f"{name}: {old!r} -> {new!r}" for name, (old, new) in changes.items())
            out.append(f"{model_id}: {text}")
        if not self.changed:
            out.append("The catalog already matches Bedrock: nothing changed.")
        if self.not_in_catalog:
            out.append(f"{len(self.not_in_catalog)} listed models have no catalog row (add prices to offer them): "
                       + ", ".join(sorted(self.not_in_catalog)))
        return out


def make_control_client(*, endpoint_url: str | None = None, region: str | None = None):
    """boto3's bedrock (control plane) client: settings.BEDROCK_CONTROL_ENDPOINT_URL, or real AWS."""
    if endpoint_url is None:
        endpoint_url = getattr(settings, "BEDROCK_CONTROL_ENDPOINT_URL", "") or None
    region = region or getattr(settings, "BEDROCK_REGION", "") or "us-east-1"
    return boto3.session.Session().client("bedrock", **aws_client_kwargs(endpoint_url, region))


def _list_profiles(client) -> list[dict]:
    summaries: list[dict] = []
    kwargs: dict[str, Any] = {"typeEquals": "SYSTEM_DEFINED", "maxResults": 1000}
    while True:
        page = client.list_inference_profiles(**kwargs)
        summaries.extend(page.get("inferenceProfileSummaries", []))
        token = page.get("nextToken")
        if not token:
            return summaries
        kwargs["nextToken"] = token


def _model_id_of_arn(arn: str) -> str:
    return split_invoked_id(arn)[0]


def _date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def catalog_sync(*, client=None) -> SyncSummary:
    """Bring the catalog in step with Bedrock: lifecycle status and end-of-life date, inference
    types, modalities, whether the model is still listed, and its inference profiles. Idempotent:
    a second sync with the same answers changes nothing and records nothing. Prices are not touched."""
    client = client or make_control_client()
    listing = client.list_foundation_models().get("modelSummaries", [])
    profiles = _list_profiles(client)
    by_model = {summary["modelId"]: summary for summary in listing}
    profiles_by_model: dict[str, list[dict]] = {}
    for profile in profiles:
        if profile.get("status", "ACTIVE") != "ACTIVE":
            continue
        model_ids = {_model_id_of_arn(m["modelArn"]) for m in profile.get("models", []) if m.get("modelArn")}
        for model_id in model_ids or {split_invoked_id(profile["inferenceProfileId"])[0]}:
            profiles_by_model.setdefault(model_id, []).append(profile)
    summary = SyncSummary(models_listed=len(listing), profiles_listed=len(profiles))
    now = timezone.now()
    with transaction.atomic():
        # Only foundation models are Bedrock's to list: a self-hosted or custom entry is never in
        # ListFoundationModels, and must not be marked unlisted (and so withdrawn) for it.
        catalog = list(CatalogModel.objects.select_for_update().filter(kind=CatalogKind.BEDROCK).order_by("pk"))
        known = {entry.model_id for entry in catalog}
        summary.not_in_catalog = sorted(
            model_id for model_id, s in by_model.items()
            if model_id not in known and "TEXT" in (s.get("outputModalities") or [])
        )
        for entry in catalog:
            changes = _sync_entry(entry, by_model.get(entry.model_id), profiles_by_model.get(entry.model_id, []), now)
            if changes:
                summary.changed[entry.model_id] = changes
    log.info("catalog sync: %s models listed, %s changed (%s), %s listed without a catalog row",
             summary.models_listed, len(summary.changed), ", ".join(summary.changed) or "none",
             len(summary.not_in_catalog))
    return summary


def _sync_entry(entry: CatalogModel, listed: dict | None, profiles: list[dict], now) -> dict[str, list]:
    before = _tracked(entry)
    if listed is None:
        # Bedrock stops listing a model at its end of life (and never lists one the region lacks).
        entry.listed_by_bedrock = False
    else:
        entry.listed_by_bedrock = True
        lifecycle = listed.get("modelLifecycle") or {}
        status = lifecycle.get("status")
        if status == "LEGACY":
            entry.lifecycle_status = Lifecycle.LEGACY
        elif status == "ACTIVE":
            entry.lifecycle_status = Lifecycle.ACTIVE
        eol = _date(lifecycle.get("endOfLifeTime"))
        if eol is not None:
            entry.end_of_life_date = eol
        if "inferenceTypesSupported" in listed:
            entry.inference_types = sorted(listed["inferenceTypesSupported"])
        if "inputModalities" in listed:
            entry.input_modalities = list(listed["inputModalities"])
        if "outputModalities" in listed:
            entry.output_modalities = list(listed["outputModalities"])
    profile_changes = _sync_profiles(entry, profiles, now)
    listed_ids = {p["inferenceProfileId"] for p in profiles}
    if listed is not None:
        if entry.inference_types:
            entry.requires_profile = requires_profile(entry.inference_types)
        if entry.inference_profile_id and entry.inference_profile_id not in listed_ids and listed_ids:
            entry.inference_profile_id = _default_profile(listed_ids)
        elif not entry.inference_profile_id and listed_ids:
            entry.inference_profile_id = _default_profile(listed_ids)
    changes = {**catalog_diff(before, entry), **profile_changes}
    entry.synced_at = now
    entry.save()
    if changes:
        CatalogChange.objects.create(catalog_model=entry, source=CatalogChange.Source.SYNC, changes=changes,
                                     note="ListFoundationModels / ListInferenceProfiles")
    return changes


def _default_profile(listed_ids: set[str]) -> str:
    """The geographic profile of this region when there is one (same routing as before), else global."""
    geographic = sorted(p for p in listed_ids if p.startswith(GEO_PREFIXES))
    return (geographic or sorted(listed_ids))[0]


def _sync_profiles(entry: CatalogModel, profiles: list[dict], now) -> dict[str, list]:
    existing = {p.profile_id: p for p in InferenceProfile.objects.filter(catalog_model=entry)}
    added, dropped = [], []
    for summary in profiles:
        profile_id = summary["inferenceProfileId"]
        row = existing.pop(profile_id, None)
        if row is None:
            row = InferenceProfile.objects.filter(profile_id=profile_id).first() or InferenceProfile(
                profile_id=profile_id, catalog_model=entry)
            added.append(profile_id)
        elif not row.listed:
            added.append(profile_id)
        row.catalog_model = entry
        row.profile_arn = summary.get("inferenceProfileArn", "")
        row.status = summary.get("status", "ACTIVE")
        row.listed = True
        row.synced_at = now
        row.save()
    for row in existing.values():
        if row.listed:
            dropped.append(row.profile_id)
            row.listed = False
            row.synced_at = now
            row.save(update_fields=["listed", "synced_at"])
    changes: dict[str, list] = {}
    if added:
        changes["profiles_added"] = [None, sorted(added)]
    if dropped:
        changes["profiles_dropped"] = [sorted(dropped), None]
    return changes
