"""Seeds and refreshes the model catalog from the published price list (data/bedrock-models.csv)."""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from .models import CatalogModel

DEFAULT_CSV = Path(__file__).parent / "data" / "bedrock-models.csv"
# Date the seed prices were read from the Bedrock pricing page.
SEED_EFFECTIVE_DATE = dt.date(2025, 11, 1)

# Models that still answer on demand at their bare id; every other model with a profile in the
# list is refused on demand ("use an inference profile") and is called through the profile.
BARE_ID_ON_DEMAND = frozenset(
    {
        "anthropic.claude-3-haiku-20240307-v1:0",
        "meta.llama3-1-8b-instruct-v1:0",
        "meta.llama3-1-70b-instruct-v1:0",
        "meta.llama3-1-405b-instruct-v1:0",
    }
)
# Geographic (us./eu./apac.) profiles of these models cost about 10% over the listed rate;
# global. profiles cost the listed rate.
GEO_PROFILE_PREMIUM = frozenset(
    {
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-opus-4-5-20251101-v1:0",
    }
)
GEO_PREFIXES = ("us.", "eu.", "apac.", "jp.", "au.", "ca.")


def profile_price_factor(model_id: str, profile_id: str) -> Decimal:
    if model_id in GEO_PROFILE_PREMIUM and profile_id.startswith(GEO_PREFIXES):
        return Decimal("1.10")
    return Decimal("1")


@dataclass(frozen=True)
class LoadSummary:
    created: int
    updated: int


def _price(text: str) -> Decimal | None:
    text = (text or "").strip()
    return Decimal(text) if text else None


def rows_from_csv(text: str) -> list[dict]:
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        model_id = row["model_id"].strip()
        profile = (row.get("us_cross_region_profile") or "").strip()
        rows.append(
            {
                "model_id": model_id,
                "name": row["name"].strip(),
                "family": row["family"].strip(),
                "tier": row["tier"].strip(),
                "weights": row["weights"].strip(),
                "input_per_1m": _price(row["input_per_1m_usd"]),
                "output_per_1m": _price(row["output_per_1m_usd"]),
                "cache_read_per_1m": _price(row["cache_read_per_1m_usd"]),
                "cache_write_per_1m": _price(row["cache_write_per_1m_usd"]),
                "batch_discount": _price(row["batch_discount"]) or Decimal("0"),
                "context_window": int(row["context_window"]) if row.get("context_window") else None,
                "inference_profile_id": profile,
                "requires_profile": bool(profile) and model_id not in BARE_ID_ON_DEMAND,
                "profile_price_factor": profile_price_factor(model_id, profile),
            }
        )
    return rows


@transaction.atomic
def catalog_load(*, path: Path | str = DEFAULT_CSV, effective_date: dt.date = SEED_EFFECTIVE_DATE,
                 update_existing: bool = False) -> LoadSummary:
    """Create a catalog row per CSV line. Existing rows keep staff edits unless update_existing."""
    created = updated = 0
    for row in rows_from_csv(Path(path).read_text(encoding="utf-8")):
        model_id = row.pop("model_id")
        existing = CatalogModel.objects.filter(model_id=model_id).first()
        if existing is None:
            entry = CatalogModel(model_id=model_id, effective_date=effective_date, **row)
            entry.full_clean()
            entry.save()
            created += 1
        elif update_existing:
            for key, value in row.items():
                setattr(existing, key, value)
            existing.effective_date = effective_date
            existing.full_clean()
            existing.save()
            updated += 1
    return LoadSummary(created=created, updated=updated)


# Smallest prompt prefix a cache point takes effect on (Bedrock ignores shorter ones).
CACHE_MIN_TOKENS = {
    "anthropic.claude-3-5-haiku-20241022-v1:0": 2048,
    "anthropic.claude-haiku-4-5-20251001-v1:0": 4096,
    "anthropic.claude-opus-4-5-20251101-v1:0": 4096,
}
DEFAULT_CACHE_MIN_TOKENS = 1024


def min_cache_tokens(model_id: str, *, supports_caching: bool) -> int | None:
    if not supports_caching:
        return None
    return CACHE_MIN_TOKENS.get(model_id, DEFAULT_CACHE_MIN_TOKENS)
