"""Self-hosted catalog entries: an OpenAI-compatible chat completions endpoint (vLLM, llama.cpp's
server, TGI, Ollama) called through one kept HTTP client per endpoint, and its API key, which is
write-only: encrypted at rest (Fernet) or read from an environment variable the entry names.

A call gives a ConverseReply or raises a ConverseError like a Converse call, so the runner's quotas,
retries, exactly-once storage, cancel and resume apply unchanged. An endpoint that cannot be reached
at all raises EndpointUnreachable: after the retries the pair is left without a result (resumable),
never stored as a failed answer."""
from __future__ import annotations

import base64
import email.utils
import hashlib
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError

from .converse import SANDBOX_HEADER, ConverseError, ConverseReply
from .costs import approx_tokens

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")
MAX_API_KEY_CHARS = 4096
# HTTP statuses an OpenAI-compatible server answers that waiting can fix.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_STATUS_CODES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 408: "RequestTimeout",
                 409: "Conflict", 413: "PayloadTooLarge", 422: "UnprocessableEntity", 429: "RateLimited"}
_FINISH_REASONS = {"stop": "end_turn", "length": "max_tokens", "content_filter": "content_filtered"}
# No HTTP answer at all: the endpoint is down, restarting or unreachable.
UNREACHABLE_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadError, httpx.WriteError,
                      httpx.RemoteProtocolError, httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout)


class EndpointUnreachable(ConverseError):
    """The endpoint gave no HTTP answer (refused, reset, timed out): retried, then left for a resume."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, retryable=True, http_status=None)


# --------------------------------------------------------------------------- the API key


def _fernet() -> Fernet:
    """The key is derived from SELFHOSTED_KEY_SECRET (any string), else from SECRET_KEY."""
    secret = settings.SELFHOSTED_KEY_SECRET or settings.SECRET_KEY
    derived = hashlib.sha256(b"cloudroute self-hosted api keys\x1f" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_api_key(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def api_key_of(endpoint) -> str:
    """The key a call sends (empty: none): from the named environment variable, else decrypted."""
    if endpoint.api_key_env:
        return os.environ.get(endpoint.api_key_env, "")
    if not endpoint.api_key_encrypted:
        return ""
    try:
        return _fernet().decrypt(endpoint.api_key_encrypted.encode()).decode()
    except InvalidToken:
        raise ConverseError("ApiKeyUnreadable", "The stored API key cannot be decrypted with this "
                            "SELFHOSTED_KEY_SECRET; enter the key again.", retryable=False, http_status=None) from None


def api_key_state(endpoint) -> str:
    """What a page may say about the key: never the key itself."""
    if endpoint.api_key_env:
        return f"read from ${endpoint.api_key_env}"
    return "set (encrypted)" if endpoint.api_key_encrypted else "none"


# --------------------------------------------------------------------------- validation


def clean_base_url(value: str) -> str:
    """An http(s) URL with a host, no credentials, query or fragment; trailing slashes dropped."""
    value = (value or "").strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Give the endpoint's http:// or https:// base URL, e.g. http://gpu-box:8000/v1.")
    if parts.username or parts.password:
        raise ValidationError("Put no credentials in the URL: give the API key in its own field.")
    if parts.query or parts.fragment:
        raise ValidationError("The base URL takes no query string or fragment.")
    return value.rstrip("/")


def clean_served_model_name(value: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > 200 or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValidationError("Give the model name the server expects (no spaces, at most 200 characters).")
    return value


def clean_api_key_env(value: str) -> str:
    value = (value or "").strip()
    if value and not ENV_NAME.match(value):
        raise ValidationError("An environment variable name: capital letters, digits and _, e.g. GPU_BOX_API_KEY.")
    return value


def clean_api_key(value: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_API_KEY_CHARS or any(ord(ch) < 32 for ch in value):
        raise ValidationError(f"An API key is one line of at most {MAX_API_KEY_CHARS} characters.")
    return value


# --------------------------------------------------------------------------- calls


@dataclass(frozen=True)
class Target:
    """Where one run model's calls go, read on the lane's own thread before any call."""

    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    error: str = ""  # why no call can be made (the stored key cannot be read)


def targets_for(run_models: Iterable) -> dict[int, Target]:
    """Per run-model id, the self-hosted endpoint it calls (the entry's current URL and key, so a
    corrected URL or key takes effect on resume)."""
    from .hosting import SelfHostedEndpoint  # noqa: PLC0415

    wanted = {rm.catalog_model_id: rm.pk for rm in run_models if rm.kind == "self_hosted"}
    targets = {}
    for endpoint in SelfHostedEndpoint.objects.filter(catalog_model_id__in=wanted):
        try:
            key, error = api_key_of(endpoint), ""
        except ConverseError as exc:
            key, error = "", exc.message
        targets[wanted[endpoint.catalog_model_id]] = Target(endpoint.base_url, endpoint.served_model_name, key, error)
    return targets


_clients: dict[tuple[str, int], httpx.Client] = {}
_clients_lock = threading.Lock()


def make_client(base_url: str, *, max_connections: int = 64) -> httpx.Client:
    """A kept, thread-safe client per endpoint and pool size (connections are reused across calls)."""
    key = (base_url, max_connections)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = httpx.Client(
                timeout=httpx.Timeout(settings.SELFHOSTED_READ_TIMEOUT, connect=settings.SELFHOSTED_CONNECT_TIMEOUT),
                limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
                follow_redirects=False, trust_env=False,
            )
        return client


def retry_after_seconds(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Retry-After as seconds (retry-after-ms first, then seconds or an HTTP date), capped."""
    value: float | None = None
    try:
        if headers.get("retry-after-ms"):
            value = float(headers["retry-after-ms"]) / 1000
        elif headers.get("retry-after"):
            raw = headers["retry-after"].strip()
            if re.fullmatch(r"\d+(\.\d+)?", raw):
                value = float(raw)
            else:
                when = email.utils.parsedate_to_datetime(raw)
                value = when.timestamp() - (time.time() if now is None else now)
    except (TypeError, ValueError, IndexError):
        return None
    if value is None:
        return None
    return min(max(0.0, value), settings.SELFHOSTED_RETRY_AFTER_MAX_SECONDS)


def _error_from(response: httpx.Response) -> ConverseError:
    status = response.status_code
    try:
        body = response.json()
        detail = body.get("error") if isinstance(body, dict) else None
        message = (detail.get("message") if isinstance(detail, dict) else detail or body.get("message")) or ""
    except (ValueError, AttributeError):
        message = response.text[:500]
    code = _STATUS_CODES.get(status, f"ServerError{status}" if status >= 500 else f"HTTP{status}")
    error = ConverseError(code, str(message)[:2000] or f"HTTP {status}", retryable=status in RETRYABLE_STATUSES,
                          http_status=status)
    if status in (429, 503):
        error.retry_after = retry_after_seconds(response.headers)
    return error


def chat(target: Target, *, prompt: str, system_prompt: str = "", max_tokens: int, temperature: float,
         max_connections: int = 64) -> ConverseReply:
    """One chat completion, no retries. Raises ConverseError (EndpointUnreachable: no answer at all)."""
    if target.error:
        raise ConverseError("ApiKeyUnreadable", target.error, retryable=False, http_status=None)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": prompt})
    headers = {"Authorization": f"Bearer {target.api_key}"} if target.api_key else {}
    client = make_client(target.base_url, max_connections=max_connections)
    started = time.perf_counter()
    try:
        response = client.post(f"{target.base_url}/chat/completions", headers=headers, json={
            "model": target.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature,
            "stream": False,
        })
    except UNREACHABLE_ERRORS as exc:
        raise EndpointUnreachable(type(exc).__name__, f"{target.base_url} did not answer: {exc}"[:2000]) from None
    except httpx.HTTPError as exc:
        raise ConverseError(type(exc).__name__, str(exc)[:2000], retryable=False, http_status=None) from None
    wall_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise _error_from(response)
    try:
        body = response.json()
        choice = body["choices"][0]
        text = (choice.get("message") or {}).get("content") or ""
        usage = body.get("usage") or {}
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise ConverseError("InvalidResponse", "The endpoint's answer is not a chat completion.",
                            retryable=False, http_status=200) from None
    finish = str(choice.get("finish_reason") or "")
    return ConverseReply(
        text=text,
        stop_reason=_FINISH_REASONS.get(finish, finish),
        input_tokens=int(usage.get("prompt_tokens") or approx_tokens(system_prompt + prompt)),
        output_tokens=int(usage.get("completion_tokens") or approx_tokens(text)),
        cache_read_tokens=0, cache_write_tokens=0,
        latency_ms=int(wall_ms), wall_ms=wall_ms,
        sandbox=response.headers.get(SANDBOX_HEADER) == "1",
    )


# --------------------------------------------------------------------------- registering an entry

MAX_GPUS = 1024
MAX_CONCURRENCY = 1024
KEEP = object()  # api_key: leave the stored key as it is


def firm_model_id(model_id: str, partner_id: int | None) -> str:
    """A firm's own entries live under `firm-<id>/`, so one firm's names never collide with (nor
    reveal) another's; staff-managed ids are as given."""
    model_id = (model_id or "").strip()
    if partner_id is None:
        return model_id
    prefix = f"firm-{partner_id}/"
    return model_id if model_id.startswith(prefix) else prefix + model_id.removeprefix("/")


def validate_endpoint_fields(*, gpu_count, gpu_hour_price, max_concurrency) -> dict[str, str]:
    """Problems with the numbers of an entry, by field (empty: none)."""
    from decimal import Decimal, InvalidOperation  # noqa: PLC0415

    problems = {}
    if not isinstance(gpu_count, int) or not 1 <= gpu_count <= MAX_GPUS:
        problems["gpu_count"] = f"GPUs: a whole number from 1 to {MAX_GPUS}."
    try:
        price = Decimal(str(gpu_hour_price))
        if not price.is_finite() or price < 0 or price >= Decimal("1000000"):
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        problems["gpu_hour_price"] = "Price per GPU-hour: USD, 0 or more (e.g. 0.80)."
    if not isinstance(max_concurrency, int) or not 1 <= max_concurrency <= MAX_CONCURRENCY:
        problems["max_concurrency"] = f"Calls in flight: a whole number from 1 to {MAX_CONCURRENCY}."
    return problems


def selfhosted_entry_save(*, entry=None, name: str, model_id: str, base_url: str, served_model_name: str,
                          gpu_type: str, gpu_count: int, gpu_hour_price, hosting: str = "outside_aws",
                          max_concurrency: int = 4, owner_partner=None, family: str = "llama", tier: str = "mid",
                          requests_per_minute: int | None = None, tokens_per_minute: int | None = None,
                          is_active: bool = True, api_key=KEEP, api_key_env: str = ""):
    """Create or update a self-hosted catalog entry and its endpoint. api_key: a new key (stored
    encrypted), "" or None to clear it, KEEP to leave it; api_key_env instead names the variable the
    worker reads it from (the stored key is then dropped). Raises ValidationError by field."""
    from decimal import Decimal  # noqa: PLC0415

    from django.db import transaction  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from .hosting import SelfHostedEndpoint  # noqa: PLC0415
    from .catalog_models import CatalogKind, CatalogModel, Weights  # noqa: PLC0415

    problems = validate_endpoint_fields(gpu_count=gpu_count, gpu_hour_price=gpu_hour_price,
                                        max_concurrency=max_concurrency)
    cleaned = {}
    for field_name, check, value in (("base_url", clean_base_url, base_url),
                                     ("served_model_name", clean_served_model_name, served_model_name),
                                     ("api_key_env", clean_api_key_env, api_key_env)):
        try:
            cleaned[field_name] = check(value)
        except ValidationError as exc:
            problems[field_name] = exc.messages[0]
    if not (gpu_type or "").strip():
        problems["gpu_type"] = "Name the GPU, e.g. NVIDIA L4."
    api_key_env = cleaned.get("api_key_env", "")
    if api_key is not KEEP and api_key:
        try:
            api_key = clean_api_key(api_key)
        except ValidationError as exc:
            problems["api_key"] = exc.messages[0]
        if api_key_env:
            problems["api_key"] = "Give either the API key or the environment variable holding it, not both."
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        entry = entry if entry is not None else CatalogModel()
        if entry.pk is None:  # token prices 0: a self-hosted entry is priced by its GPU-hours
            entry.input_per_1m = entry.output_per_1m = Decimal(0)
            entry.effective_date = timezone.localdate()
        entry.kind, entry.weights, entry.batch_supported = CatalogKind.SELF_HOSTED, Weights.OPEN, False
        entry.name, entry.family, entry.tier, entry.is_active = name.strip(), family, tier, is_active
        entry.owner_partner = owner_partner
        entry.model_id = firm_model_id(model_id, owner_partner.pk if owner_partner else None)
        entry.max_concurrency = max_concurrency
        entry.requests_per_minute, entry.tokens_per_minute = requests_per_minute, tokens_per_minute
        entry.full_clean(exclude=["owner_partner"])
        entry.save()
        endpoint = SelfHostedEndpoint.objects.filter(catalog_model=entry).first() or SelfHostedEndpoint(
            catalog_model=entry)
        endpoint.base_url, endpoint.served_model_name = cleaned["base_url"], cleaned["served_model_name"]
        endpoint.gpu_type, endpoint.gpu_count = gpu_type.strip(), gpu_count
        endpoint.gpu_hour_price, endpoint.hosting = Decimal(str(gpu_hour_price)), hosting
        endpoint.api_key_env = api_key_env
        if api_key_env or (api_key is not KEEP and not api_key):
            endpoint.api_key_encrypted = ""
        elif api_key is not KEEP:
            endpoint.api_key_encrypted = encrypt_api_key(api_key)
        endpoint.full_clean(exclude=["catalog_model", "api_key_encrypted"])
        endpoint.save()
    return entry
