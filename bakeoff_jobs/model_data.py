"""What the published model list (data/bedrock-models.csv) says about each Bedrock model, and how
an invoked id names its model and inference profile. The one place both the catalog and the local
sandbox read this from (no Django here: the sandbox runs without it).

Lifecycle seed: AWS's model lifecycle page
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html) lists Claude 3
Haiku, every Llama 3.2 size, Llama 3.1 405B and Claude Sonnet 4 as past end of life by late 2026,
and Claude Opus 4.1 as legacy. Batch inference is not offered for Llama 3.2 (Bedrock pricing page).
End-of-life dates are left empty where no AWS page we can cite gives one: `sync_catalog` fills
them from ListFoundationModels (modelLifecycle.endOfLifeTime) and staff may edit them."""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

DEFAULT_CSV = Path(__file__).parent / "data" / "bedrock-models.csv"

# Prefixes of system-defined cross-region inference profile ids. A geographic profile routes within
# one geography; a global. profile routes anywhere (and is billed at the listed rate).
GLOBAL_PREFIX = "global."
GEO_PREFIXES = ("us.", "eu.", "apac.", "us-gov.", "jp.", "au.", "ca.")
PROFILE_PREFIXES = (GLOBAL_PREFIX, *GEO_PREFIXES)

ON_DEMAND = "ON_DEMAND"
INFERENCE_PROFILE = "INFERENCE_PROFILE"

ACTIVE, LEGACY, END_OF_LIFE = "active", "legacy", "end_of_life"

# The open-weights model the demo's self-hosted entry names (its served model name); the local
# sandbox serves it on /v1/chat/completions by default.
SELF_HOSTED_DEMO_MODEL = "meta-llama/Llama-3.1-8B-Instruct"

# The most output tokens a call may ask of each model (Bedrock refuses a larger maxTokens).
MAX_OUTPUT_TOKENS: dict[str, int] = {
    "anthropic.claude-3-haiku-20240307-v1:0": 4096,
    "anthropic.claude-3-5-haiku-20241022-v1:0": 8192,
    "anthropic.claude-haiku-4-5-20251001-v1:0": 64000,
    "anthropic.claude-3-7-sonnet-20250219-v1:0": 64000,
    "anthropic.claude-sonnet-4-20250514-v1:0": 64000,
    "anthropic.claude-sonnet-4-5-20250929-v1:0": 64000,
    "anthropic.claude-opus-4-1-20250805-v1:0": 32000,
    "anthropic.claude-opus-4-5-20251101-v1:0": 64000,
    "meta.llama4-scout-17b-instruct-v1:0": 8192,
    "meta.llama4-maverick-17b-instruct-v1:0": 8192,
}
DEFAULT_MAX_OUTPUT_TOKENS = 2048  # the Llama 3.x models (and a custom model called by its ARN)

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


# ARN resource types a Converse call may name for a custom model: the custom model itself, an imported
# one (Custom Model Import), its on-demand deployment, or the Provisioned Throughput bought for it
# (https://docs.aws.amazon.com/bedrock/latest/userguide/use-custom-model-on-demand.html,
# https://docs.aws.amazon.com/bedrock/latest/userguide/prov-thru-use.html).
CUSTOM_ARN_RESOURCES = ("custom-model", "imported-model", "custom-model-deployment", "provisioned-model")


def is_custom_model_arn(invoked_id: str) -> bool:
    """Whether the id is the ARN of a Bedrock custom model (or its deployment or Provisioned Throughput)."""
    if not invoked_id.startswith("arn:"):
        return False
    return invoked_id.split(":", 5)[-1].partition("/")[0] in CUSTOM_ARN_RESOURCES


def split_invoked_id(invoked_id: str) -> tuple[str, str | None]:
    """(foundation model id, profile prefix or None) of an id or ARN a Converse call names."""
    if invoked_id.startswith("arn:"):
        resource = invoked_id.split(":", 5)[-1]
        kind, _, rest = resource.partition("/")
        if kind == "foundation-model":
            return rest, None
        invoked_id = rest
    for prefix in PROFILE_PREFIXES:
        if invoked_id.startswith(prefix):
            return invoked_id[len(prefix):], prefix
    return invoked_id, None


def profile_scope(profile_id: str) -> str:
    """"global", "us", "eu", … for a profile id; "" for a bare model id."""
    _, prefix = split_invoked_id(profile_id)
    return prefix.rstrip(".") if prefix else ""


def is_global_profile(invoked_id: str) -> bool:
    return split_invoked_id(invoked_id)[1] == GLOBAL_PREFIX


def requires_profile(inference_types) -> bool:
    """A model Bedrock serves on demand only through an inference profile refuses its bare id.

    This is the one rule: the catalog, the launch checks and the sandbox all ask it, over the
    published list's `inference_types` (INFERENCE_PROFILE alone: the bare id is refused). Llama 3.3
    70B Instruct is such a model: AWS serves it on demand through its US cross-Region profile
    us.meta.llama3-3-70b-instruct-v1:0 ("Supported Regions and models for inference profiles",
    https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html), and its
    row says INFERENCE_PROFILE only, so runs call the profile and the sandbox refuses the bare id
    (tests/bakeoff_jobs/test_model_data.py pins it). `sync_catalog` follows what ListFoundationModels
    answers if AWS changes it."""
    types = set(inference_types or ())
    return INFERENCE_PROFILE in types and ON_DEMAND not in types


# Geographic (us./eu./apac.) profiles of these models cost about 10% over the listed rate;
# global. profiles cost the listed rate.
GEO_PROFILE_PREMIUM = frozenset(
    {
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-opus-4-5-20251101-v1:0",
    }
)


def profile_price_factor(model_id: str, profile_id: str) -> Decimal:
    """What calling the model through that profile costs against its listed rate."""
    if model_id in GEO_PROFILE_PREMIUM and profile_id.startswith(GEO_PREFIXES):
        return Decimal("1.10")
    return Decimal("1")


@dataclass(frozen=True)
class PublishedModel:
    model_id: str
    name: str
    family: str
    tier: str
    weights: str
    input_per_1m: Decimal | None
    output_per_1m: Decimal | None
    cache_read_per_1m: Decimal | None
    cache_write_per_1m: Decimal | None
    batch_discount: Decimal
    context_window: int | None
    geo_profile_id: str
    global_profile_id: str
    inference_types: tuple[str, ...]
    input_modalities: tuple[str, ...]
    batch_supported: bool
    lifecycle: str
    end_of_life_date: dt.date | None

    @property
    def provider(self) -> str:
        return "Anthropic" if self.model_id.startswith("anthropic.") else "Meta"

    @property
    def requires_profile(self) -> bool:
        return requires_profile(self.inference_types)

    @property
    def max_output_tokens(self) -> int:
        return MAX_OUTPUT_TOKENS.get(self.model_id, DEFAULT_MAX_OUTPUT_TOKENS)

    @property
    def cache_min_tokens(self) -> int | None:
        return min_cache_tokens(self.model_id, supports_caching=self.cache_read_per_1m is not None)

    @property
    def profile_ids(self) -> list[str]:
        return [p for p in (self.geo_profile_id, self.global_profile_id) if p]


def _decimal(text: str | None) -> Decimal | None:
    text = (text or "").strip()
    return Decimal(text) if text else None


def _words(text: str | None) -> tuple[str, ...]:
    return tuple((text or "").split())


def _yes(text: str | None, default: bool = True) -> bool:
    text = (text or "").strip().lower()
    return default if not text else text in ("yes", "true", "1")


def published_models(text: str | None = None) -> list[PublishedModel]:
    """Every row of the published list (the default CSV when no text is given)."""
    if text is None:
        text = DEFAULT_CSV.read_text(encoding="utf-8")
    models = []
    for row in csv.DictReader(io.StringIO(text)):
        eol = (row.get("end_of_life_date") or "").strip()
        lifecycle = (row.get("lifecycle") or ACTIVE).strip() or ACTIVE
        if lifecycle not in (ACTIVE, LEGACY, END_OF_LIFE):
            raise ValueError(f"{row['model_id']}: lifecycle must be active, legacy or end_of_life, not {lifecycle!r}")
        models.append(
            PublishedModel(
                model_id=row["model_id"].strip(),
                name=row["name"].strip(),
                family=row["family"].strip(),
                tier=row["tier"].strip(),
                weights=row["weights"].strip(),
                input_per_1m=_decimal(row.get("input_per_1m_usd")),
                output_per_1m=_decimal(row.get("output_per_1m_usd")),
                cache_read_per_1m=_decimal(row.get("cache_read_per_1m_usd")),
                cache_write_per_1m=_decimal(row.get("cache_write_per_1m_usd")),
                batch_discount=_decimal(row.get("batch_discount")) or Decimal("0"),
                context_window=int(row["context_window"]) if (row.get("context_window") or "").strip() else None,
                geo_profile_id=(row.get("us_cross_region_profile") or "").strip(),
                global_profile_id=(row.get("global_profile") or "").strip(),
                inference_types=_words(row.get("inference_types")) or (ON_DEMAND,),
                input_modalities=_words(row.get("input_modalities")) or ("TEXT",),
                batch_supported=_yes(row.get("batch_supported")),
                lifecycle=lifecycle,
                end_of_life_date=dt.date.fromisoformat(eol) if eol else None,
            )
        )
    return models


def lifecycle_note(lifecycle: dict | None) -> str:
    """"legacy on Bedrock: end of life 2027-01-15" (empty for an active model)."""
    lifecycle = lifecycle or {}
    status, eol = lifecycle.get("status"), lifecycle.get("end_of_life_date")
    if status == LEGACY:
        return f"legacy on Bedrock: end of life {eol}" if eol else "legacy on Bedrock: end-of-life date not yet published"
    if status == END_OF_LIFE:
        return f"past end of life on Bedrock ({eol})" if eol else "past end of life on Bedrock"
    return ""
