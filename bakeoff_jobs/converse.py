"""Bedrock Runtime Converse client: one call in, a ConverseReply or a classified ConverseError out.
Retries are left to the caller, whose backoff is tied to the quotas shared by all workers."""
from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from django.conf import settings

# The header the local sandbox (bedrock_sandbox) puts on every answer: a reply carrying it did not
# come from Amazon Bedrock, so its figures are not real and the run bills $0.
SANDBOX_HEADER = "x-cloudroute-sandbox"

RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailableException",
        "ModelTimeoutException",
        "ModelNotReadyException",
        "InternalServerException",
    }
)
CONNECTION_ERRORS = (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError)

_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)
_clients: dict[tuple[str | None, str, int], Any] = {}
_clients_lock = threading.Lock()


@dataclass(frozen=True)
class ConverseReply:
    text: str
    stop_reason: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    latency_ms: int  # the service's own figure (metrics.latencyMs)
    wall_ms: float  # measured here, network and parsing included
    sandbox: bool  # answered by the local sandbox, not AWS


class ConverseError(Exception):
    def __init__(self, code: str, message: str, *, retryable: bool, http_status: int | None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.http_status = http_status
        self.retry_after: float | None = None  # seconds the service asked to wait (Retry-After)


def converse_error_from(exc: Exception) -> ConverseError:
    """Classifies a botocore failure: retry what waiting can fix, record the rest."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or "Unknown"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return ConverseError(code, error.get("Message") or str(exc), retryable=code in RETRYABLE_CODES,
                             http_status=status)
    if isinstance(exc, CONNECTION_ERRORS):
        return ConverseError(type(exc).__name__, str(exc), retryable=True, http_status=None)
    return ConverseError(type(exc).__name__, str(exc), retryable=False, http_status=None)


def is_local_endpoint(endpoint_url: str | None) -> bool:
    """A plain-http or loopback endpoint is the sandbox: real Bedrock is only reached over https."""
    if not endpoint_url:
        return False
    parts = urlsplit(endpoint_url)
    return parts.scheme == "http" or (parts.hostname or "") in {"localhost", "127.0.0.1", "::1"}


def _credentials_configured() -> bool:
    if any(os.environ.get(name) for name in _CREDENTIAL_VARIABLES):
        return True
    shared = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")).expanduser()
    config = Path(os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")).expanduser()
    return shared.exists() or config.exists()


def aws_client_kwargs(endpoint_url: str | None, region: str) -> dict[str, Any]:
    """boto3 client arguments for a control-plane or S3 client: standard retries, the endpoint when
    one is set, and placeholder credentials for a local endpoint when none are configured."""
    kwargs: dict[str, Any] = {"region_name": region,
                              "config": Config(region_name=region, retries={"mode": "standard", "max_attempts": 3})}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    if is_local_endpoint(endpoint_url) and not _credentials_configured():
        kwargs.update(aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
    return kwargs


def make_client(*, endpoint_url: str | None = None, region: str | None = None, max_pool_connections: int = 64):
    """A cached, thread-safe boto3 bedrock-runtime client (one per endpoint, region and pool size).
    endpoint_url None -> settings.BEDROCK_ENDPOINT_URL; an empty value means real AWS."""
    if endpoint_url is None:
        endpoint_url = getattr(settings, "BEDROCK_ENDPOINT_URL", "") or None
    endpoint_url = endpoint_url or None
    region = region or getattr(settings, "BEDROCK_REGION", "") or boto3.session.Session().region_name or "us-east-1"
    key = (endpoint_url, region, max_pool_connections)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _build_client(endpoint_url, region, max_pool_connections)
        return client


def _build_client(endpoint_url: str | None, region: str, max_pool_connections: int):
    config = Config(
        region_name=region,
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=getattr(settings, "BEDROCK_CONNECT_TIMEOUT", 5),
        read_timeout=getattr(settings, "BEDROCK_READ_TIMEOUT", 300),
        max_pool_connections=max_pool_connections,
        tcp_keepalive=True,
    )
    kwargs: dict[str, Any] = {"config": config, "region_name": region}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    if is_local_endpoint(endpoint_url) and not _credentials_configured():
        # The sandbox ignores signatures, but botocore will not send an unsigned request.
        kwargs.update(aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
    return boto3.session.Session().client("bedrock-runtime", **kwargs)


def build_request(*, model_id: str, prompt: str, system_prompt: str = "", max_tokens: int,
                  temperature: float, cache_system_prompt: bool = False) -> dict[str, Any]:
    request: dict[str, Any] = {
        "modelId": model_id,
        "messages": [{"role": "user", "content": [{"text": prompt}]}],
        "inferenceConfig": {"maxTokens": max_tokens, "temperature": temperature},
    }
    if system_prompt:
        request["system"] = [{"text": system_prompt}]
        if cache_system_prompt:
            request["system"].append({"cachePoint": {"type": "default"}})
    return request


def converse(client, *, model_id: str, prompt: str, system_prompt: str = "", max_tokens: int,
             temperature: float, cache_system_prompt: bool = False) -> ConverseReply:
    """One Converse call, no retries. Raises ConverseError (see .retryable) on any failure."""
    request = build_request(
        model_id=model_id, prompt=prompt, system_prompt=system_prompt, max_tokens=max_tokens,
        temperature=temperature, cache_system_prompt=cache_system_prompt,
    )
    started = time.perf_counter()
    try:
        response = client.converse(**request)
    except (ClientError, *CONNECTION_ERRORS) as exc:
        raise converse_error_from(exc) from exc
    wall_ms = (time.perf_counter() - started) * 1000
    usage = response.get("usage", {})
    content = response.get("output", {}).get("message", {}).get("content", [])
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return ConverseReply(
        text="".join(block.get("text", "") for block in content),
        stop_reason=response.get("stopReason", ""),
        input_tokens=usage.get("inputTokens", 0),
        output_tokens=usage.get("outputTokens", 0),
        cache_read_tokens=usage.get("cacheReadInputTokens", 0) or 0,
        cache_write_tokens=usage.get("cacheWriteInputTokens", 0) or 0,
        latency_ms=response.get("metrics", {}).get("latencyMs", 0),
        wall_ms=wall_ms,
        sandbox=headers.get(SANDBOX_HEADER) == "1",
    )


def count_tokens(client, *, model_id: str, prompt: str, system_prompt: str = "") -> int:
    """Input tokens the model would bill for this prompt (CountTokens), without running it."""
    converse_input: dict[str, Any] = {"messages": [{"role": "user", "content": [{"text": prompt}]}]}
    if system_prompt:
        converse_input["system"] = [{"text": system_prompt}]
    try:
        response = client.count_tokens(modelId=model_id, input={"converse": converse_input})
    except (ClientError, *CONNECTION_ERRORS) as exc:
        raise converse_error_from(exc) from exc
    return int(response["inputTokens"])


def backoff_delay(attempt: int, *, base: float = 0.2, cap: float = 10.0, rng: random.Random | Any = random) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)], attempt from 0."""
    return rng.uniform(0.0, min(cap, base * (2 ** max(0, attempt))))
