"""The sandbox's OpenAI-compatible side: `POST /v1/chat/completions` and `GET /v1/models`, as vLLM,
llama.cpp's server or TGI answer them, so a self-hosted catalog entry runs end to end without a GPU.

Answers come from the same engine as Converse calls (scripts, accuracy, latency, deterministic per
model, prompt and attempt), for the model names in `SandboxConfig.served_models`. Throttling uses
the sandbox's throttle flags and answers HTTP 429 with `Retry-After` (whole seconds) and
`retry-after-ms`; server errors answer 5xx; an unknown model 404; with `openai_api_key` set, a
request without `Authorization: Bearer <that key>` gets 401.

The server (server.py) routes `/v1/...` here; the handler passed in is its request handler, whose
`server.engine` and `_send` are used."""
from __future__ import annotations

import hmac
import json
import math
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any

from .config import SandboxError

_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 429: "rate_limit_error"}


def handles(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/")


def _text(content: Any) -> str:
    """A message's content: a string, or a list of {"type": "text", "text": ...} parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    raise SandboxError("ValidationException", "Each message's content must be a string or a list of text parts.")


def converse_body(request: dict[str, Any]) -> dict[str, Any]:
    """The Converse request an OpenAI chat completions request amounts to."""
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        raise SandboxError("ValidationException", "messages must be a non-empty list.")
    system, chat = [], []
    for message in messages:
        if not isinstance(message, dict):
            raise SandboxError("ValidationException", "Each message must be an object.")
        text = _text(message.get("content", ""))
        if message.get("role") in ("system", "developer"):
            system.append({"text": text})
        else:
            chat.append({"role": message.get("role") or "user", "content": [{"text": text}]})
    if not chat:
        raise SandboxError("ValidationException", "A conversation must have a user message.")
    inference: dict[str, Any] = {"temperature": request.get("temperature", 1.0)}
    max_tokens = request.get("max_completion_tokens", request.get("max_tokens"))
    if max_tokens is not None:
        inference["maxTokens"] = max_tokens
    stop = request.get("stop")
    if stop:
        inference["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    return {"system": system, "messages": chat, "inferenceConfig": inference}


def completion(model: str, answer: dict[str, Any]) -> dict[str, Any]:
    usage = answer["usage"]
    prompt_tokens = usage["inputTokens"] + usage.get("cacheReadInputTokens", 0) + usage.get("cacheWriteInputTokens", 0)
    text = "".join(block.get("text", "") for block in answer["output"]["message"]["content"])
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": _FINISH.get(answer["stopReason"], "stop")}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": usage["outputTokens"],
                  "total_tokens": prompt_tokens + usage["outputTokens"]},
    }


def _send_error(handler: BaseHTTPRequestHandler, error: SandboxError) -> None:
    headers = {}
    if error.status == 429:
        seconds = max(0.0, handler.server.engine.config.retry_after_seconds)
        headers = {"Retry-After": str(math.ceil(seconds)), "retry-after-ms": str(int(seconds * 1000))}
    handler._send(error.status, {"error": {"message": error.message, "type": _ERROR_TYPES.get(error.status, "api_error"),
                                           "code": error.code}}, headers)


def _authorized(handler: BaseHTTPRequestHandler) -> bool:
    key = handler.server.engine.config.openai_api_key
    if not key:
        return True
    given = handler.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {key}".encode())


def handle_get(handler: BaseHTTPRequestHandler, path: str) -> None:
    config = handler.server.engine.config
    if path.rstrip("/") != "/v1/models":
        _send_error(handler, SandboxError("ResourceNotFoundException", f"No route for GET {path}"))
    elif not _authorized(handler):
        _send_error(handler, SandboxError("AccessDeniedException", "Invalid API key."))
    else:
        handler._send(200, {"object": "list", "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "sandbox"} for name in config.served_models]})


def handle_post(handler: BaseHTTPRequestHandler, path: str, raw: bytes) -> None:
    if path.rstrip("/") != "/v1/chat/completions":
        _send_error(handler, SandboxError("ResourceNotFoundException", f"No route for POST {path}"))
        return
    engine = handler.server.engine
    state = engine.state
    model = ""
    with state.lock:
        state.in_flight += 1
        state.max_in_flight = max(state.max_in_flight, state.in_flight)
    error: SandboxError | None = None
    try:
        if not _authorized(handler):
            raise SandboxError("AccessDeniedException", "Invalid API key.")
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            raise SandboxError("ValidationException", "The request body is not valid JSON.") from None
        if not isinstance(request, dict) or request.get("stream"):
            raise SandboxError("ValidationException", "Send a JSON object; streaming is not served here.")
        model = str(request.get("model") or "")
        if model not in engine.config.served_models:
            raise SandboxError("ResourceNotFoundException", f"The model `{model}` does not exist.")
        response = completion(model, engine.converse(model, converse_body(request)))
        state.record(model, "ok")
    except SandboxError as exc:
        error = exc
        if model:
            state.record(model, error.code)
    finally:
        with state.lock:
            state.in_flight -= 1
    if error is not None:
        if error.code == "AccessDeniedException":
            error.status = 401
        _send_error(handler, error)
    else:
        handler._send(200, response)
