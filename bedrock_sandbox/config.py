"""What shapes the sandbox's answers: the models it knows (read from the published model list in
bakeoff_jobs.model_data, the same facts the catalog reads), per-model behaviour, scripted answers,
the error codes Bedrock answers with, and the server-wide configuration tests adjust while it runs."""
from __future__ import annotations

import copy
import dataclasses
import fnmatch
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bakeoff_jobs.costs import approx_tokens
from bakeoff_jobs.model_data import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    SELF_HOSTED_DEMO_MODEL,
    PublishedModel,
    published_models,
    split_invoked_id,
)

# Error code -> (HTTP status, message), as Bedrock Runtime returns them for Converse.
ERRORS: dict[str, tuple[int, str]] = {
    "ValidationException": (400, "Malformed input request, please reformat your input and try again."),
    "AccessDeniedException": (403, "You don't have access to the model with the specified model ID."),
    "ResourceNotFoundException": (404, "The requested resource could not be found."),
    "ModelTimeoutException": (408, "Model has timed out in processing the request. Try your request again."),
    "ModelErrorException": (424, "The system encountered an unexpected error during processing. Try your request again."),
    "ThrottlingException": (429, "Too many requests, please wait before trying again."),
    "ModelNotReadyException": (429, "Model is not ready to serve inference requests. Try again later."),
    "InternalServerException": (500, "The server encountered an internal error while processing the request."),
    "ServiceUnavailableException": (503, "Bedrock is unable to process your request."),
}
# Drawn by the server-error knob; the other codes are reachable through fail_with / scripts.
SERVER_ERRORS = ("InternalServerException", "ServiceUnavailableException")


@dataclass(frozen=True)
class ModelSpec:
    """What the sandbox knows about a foundation model (not its price: that is catalog data)."""

    max_output_tokens: int
    cache_min_tokens: int | None = None  # None: no prompt caching
    requires_profile: bool = False


# Every fact below (output limit, smallest cacheable prefix, whether a profile is needed) comes
# from bakeoff_jobs.model_data, the published list the catalog reads too, so the two never disagree.
CUSTOM_MODEL_SPEC = ModelSpec(DEFAULT_MAX_OUTPUT_TOKENS)  # a Bedrock custom model called by its ARN
PUBLISHED: dict[str, PublishedModel] = {model.model_id: model for model in published_models()}
KNOWN_MODELS: dict[str, ModelSpec] = {
    model_id: ModelSpec(model.max_output_tokens, model.cache_min_tokens, model.requires_profile)
    for model_id, model in PUBLISHED.items()
}


def estimate_tokens(text: str) -> int:
    """The sandbox's tokenizer: the project's one character-based count, never zero."""
    return max(1, approx_tokens(text))


def split_model_id(model_id: str) -> tuple[str, bool]:
    """(foundation model id, whether it was called through an inference profile)."""
    base_id, prefix = split_invoked_id(model_id)
    return base_id, prefix is not None


@dataclass
class ModelBehaviour:
    """Per-model overrides; None means "use the server-wide value"."""

    latency_ms: float | None = None
    jitter_ms: float | None = None
    throttle_rate: float | None = None
    throttle_after_latency: bool | None = None
    error_rate: float | None = None
    accuracy: float = 1.0
    fail_with: str | None = None  # every call fails with this error code

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelBehaviour":
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown model behaviour keys: {sorted(unknown)}")
        if data.get("fail_with") and data["fail_with"] not in ERRORS:
            raise ValueError(f"fail_with must be one of {sorted(ERRORS)}")
        return cls(**data)


@dataclass(frozen=True)
class ScriptLine:
    prompt_contains: str
    answer: str
    model: str | None = None  # glob over the invoked id or the foundation model id
    wrong: str | None = None  # the wrong answer to give instead of a generated one
    error: str | None = None  # fail every call on this prompt with this error code

    def matches(self, prompt: str, invoked_id: str, base_id: str) -> bool:
        if self.prompt_contains.casefold() not in prompt.casefold():
            return False
        if self.model is None:
            return True
        return fnmatch.fnmatchcase(invoked_id, self.model) or fnmatch.fnmatchcase(base_id, self.model)


def load_script(path: str | Path) -> list[ScriptLine]:
    lines = []
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        data = json.loads(raw)
        try:
            lines.append(ScriptLine(**data))
        except TypeError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    return lines


@dataclass
class SandboxConfig:
    """Everything that shapes the sandbox's answers. Tests may change it while the server runs:
    attribute writes are atomic, and `models` is replaced or edited under `lock`."""

    latency_ms: float = 200.0
    jitter_ms: float = 0.0
    throttle_rate: float = 0.0
    # False: a throttled call is refused at once; True: only after the call's latency, as a loaded
    # service can (the call then costs its caller a full latency and still has no answer).
    throttle_after_latency: bool = False
    error_rate: float = 0.0
    seed: str = "cloudroute"
    script: list[ScriptLine] = field(default_factory=list)
    models: dict[str, ModelBehaviour] = field(default_factory=dict)  # keys: exact id or glob
    extra_models: dict[str, ModelSpec] = field(default_factory=dict)
    # What ListFoundationModels / ListInferenceProfiles answer (the published list by default).
    published: list[PublishedModel] = field(default_factory=lambda: list(PUBLISHED.values()))
    llm: bool = False
    # Batch inference: the S3-compatible store jobs read and write (a local moto server), the
    # smallest job Bedrock accepts, jobs held in progress until stopped, and per-model (glob)
    # failures after that many records.
    s3_endpoint_url: str = ""
    batch_min_records: int = 100
    batch_hold: bool = False
    batch_fail_after: dict[str, int] = field(default_factory=dict)
    batch_fail_status: str = "Failed"  # or "Expired": how a job cut short by batch_fail_after ends
    # The OpenAI-compatible side (sandbox_openai): model names it serves, the API key it asks for
    # (empty: none), and the Retry-After of a throttled call.
    served_models: list[str] = field(default_factory=lambda: [SELF_HOSTED_DEMO_MODEL])
    openai_api_key: str = ""
    retry_after_seconds: float = 1.0
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def set_model(self, pattern: str, **overrides: Any) -> ModelBehaviour:
        with self.lock:
            current = self.models.get(pattern, ModelBehaviour())
            updated = dataclasses.replace(current, **overrides)
            self.models = {**self.models, pattern: updated}
            return updated

    def behaviour_for(self, invoked_id: str, base_id: str) -> ModelBehaviour:
        models = self.models
        for key in (invoked_id, base_id):
            if key in models:
                return models[key]
        for pattern, behaviour in models.items():
            if fnmatch.fnmatchcase(invoked_id, pattern) or fnmatch.fnmatchcase(base_id, pattern):
                return behaviour
        return ModelBehaviour()

    def spec_for(self, base_id: str) -> ModelSpec | None:
        served = ModelSpec(DEFAULT_MAX_OUTPUT_TOKENS) if base_id in self.served_models else None
        return self.extra_models.get(base_id) or KNOWN_MODELS.get(base_id) or served

    def snapshot(self) -> dict[str, Any]:
        return {
            f.name: copy.deepcopy(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name != "lock"
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        with self.lock:
            for name, value in snapshot.items():
                setattr(self, name, copy.deepcopy(value))


class SandboxError(Exception):
    def __init__(self, code: str, message: str | None = None):
        self.code = code
        self.status, default_message = ERRORS[code]
        self.message = message or default_message
        super().__init__(f"{code}: {self.message}")

