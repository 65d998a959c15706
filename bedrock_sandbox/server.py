"""The sandbox's HTTP server: routes Converse and CountTokens to the engine, the control plane's
reads and batch jobs to their modules, `/v1/...` to the OpenAI-compatible side; and the handle tests
and benchmarks start it in a thread with."""
from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from bakeoff_jobs.converse import SANDBOX_HEADER

from . import openai_compat
from .batch_s3 import BatchService
from .config import SandboxConfig, SandboxError
from .control_plane import foundation_model_summaries, list_inference_profiles
from .converse import ConverseEngine, SandboxState

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
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path == "/health":
            self._send(200, {"status": "ok"})
            return
        if openai_compat.handles(parts.path):
            openai_compat.handle_get(self, parts.path)
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
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        if openai_compat.handles(path):
            openai_compat.handle_post(self, path, raw)
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
