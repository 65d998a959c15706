"""The sandbox's Bedrock batch inference: CreateModelInvocationJob, GetModelInvocationJob,
StopModelInvocationJob and ListModelInvocationJobs over the control plane's REST wire protocol.
A job reads its input JSONL from an S3-compatible store (a local moto server), answers every record
with the sandbox's Converse engine in the family's native InvokeModel format, and writes
`<output prefix>/<job id>/<input file name>.out` and `manifest.json.out` as Bedrock does."""
from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from bakeoff_jobs.batch import family_of, parse_llama_prompt
from .config import PUBLISHED, SandboxError, split_model_id
from .control_plane import CONTROL_ACCOUNT, CONTROL_REGION

ENDED = {"Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"}
RETRYABLE = {"ThrottlingException", "ServiceUnavailableException", "InternalServerException",
             "ModelTimeoutException", "ModelNotReadyException"}
_ROLE = re.compile(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")
_S3_URI = re.compile(r"s3://([^/]+)/(.*)")


def start_local_s3(host: str = "127.0.0.1", port: int = 0):
    """moto's S3-compatible server on a thread (port 0: an ephemeral port). Returns (server, url)."""
    import logging  # noqa: PLC0415

    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not one log line per S3 request
    if port:
        # moto binds on its own thread and waits forever for a bind that failed: try the port here.
        import socket  # noqa: PLC0415

        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise OSError(f"the local S3 store cannot listen on {host}:{port} ({exc.strerror}); "
                              "stop what uses it or pass another --s3-port") from exc
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return server, f"http://{bound_host}:{bound_port}"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class SandboxJob:
    job_id: str
    request: dict[str, Any]
    status: str = "Submitted"
    message: str = ""
    submit_time: str = field(default_factory=_now)
    last_modified_time: str = field(default_factory=_now)
    end_time: str | None = None
    total: int = 0
    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def arn(self) -> str:
        return f"arn:aws:bedrock:{CONTROL_REGION}:{CONTROL_ACCOUNT}:model-invocation-job/{self.job_id}"

    def describe(self) -> dict[str, Any]:
        request = self.request
        answer = {
            "jobArn": self.arn, "jobName": request["jobName"], "modelId": request["modelId"],
            "roleArn": request["roleArn"], "status": self.status, "submitTime": self.submit_time,
            "lastModifiedTime": self.last_modified_time,
            "inputDataConfig": request["inputDataConfig"], "outputDataConfig": request["outputDataConfig"],
            "timeoutDurationInHours": request.get("timeoutDurationInHours", 24),
            "totalRecordCount": self.total, "processedRecordCount": self.processed,
            "successRecordCount": self.succeeded, "errorRecordCount": self.failed,
        }
        if request.get("clientRequestToken"):
            answer["clientRequestToken"] = request["clientRequestToken"]
        if self.message:
            answer["message"] = self.message
        if self.end_time:
            answer["endTime"] = self.end_time
        return answer


def converse_body(model_id: str, model_input: dict[str, Any]) -> dict[str, Any]:
    """A native InvokeModel body as the Converse request the engine answers (ValidationException
    when the body is not the family's format)."""
    if not isinstance(model_input, dict):
        raise SandboxError("ValidationException", "modelInput must be a JSON object.")
    if family_of(model_id) == "claude":
        if model_input.get("anthropic_version") != "bedrock-2023-05-31" or "max_tokens" not in model_input:
            raise SandboxError("ValidationException", "anthropic_version and max_tokens are required.")
        if "messages" not in model_input or "prompt" in model_input:
            raise SandboxError("ValidationException", "messages is required (the Messages API body).")
        messages = []
        for message in model_input["messages"]:
            content = message.get("content")
            blocks = [{"text": content}] if isinstance(content, str) else [
                {"text": b.get("text", "")} for b in content or [] if isinstance(b, dict) and b.get("type") == "text"]
            messages.append({"role": message.get("role", "user"), "content": blocks})
        system = model_input.get("system") or ""
        if isinstance(system, list):
            system = "".join(b.get("text", "") for b in system if isinstance(b, dict))
        body: dict[str, Any] = {"messages": messages, "inferenceConfig": {
            "maxTokens": model_input["max_tokens"], "temperature": model_input.get("temperature", 1.0)}}
        if system:
            body["system"] = [{"text": system}]
        return body
    if not isinstance(model_input.get("prompt"), str):
        raise SandboxError("ValidationException", "prompt is required (the Llama prompt format).")
    system, user = parse_llama_prompt(model_input["prompt"])
    body = {"messages": [{"role": "user", "content": [{"text": user or model_input["prompt"]}]}],
            "inferenceConfig": {"maxTokens": model_input.get("max_gen_len", 512),
                                "temperature": model_input.get("temperature", 0.5)}}
    if system:
        body["system"] = [{"text": system}]
    return body


def native_output(model_id: str, reply: dict[str, Any]) -> dict[str, Any]:
    """A Converse reply in the family's InvokeModel response format."""
    text = "".join(b.get("text", "") for b in reply["output"]["message"]["content"])
    usage = reply["usage"]
    stop = reply["stopReason"]
    if family_of(model_id) == "claude":
        return {"id": f"msg_bdrk_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant",
                "model": split_model_id(model_id)[0], "content": [{"type": "text", "text": text}],
                "stop_reason": stop, "stop_sequence": None,
                "usage": {"input_tokens": usage["inputTokens"], "output_tokens": usage["outputTokens"]}}
    return {"generation": text, "prompt_token_count": usage["inputTokens"],
            "generation_token_count": usage["outputTokens"],
            "stop_reason": "length" if stop == "max_tokens" else "stop"}


class BatchService:
    """Jobs by id, run on their own threads; the S3 store is reached with boto3's real s3 client."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.lock = threading.Lock()
        self.jobs: dict[str, SandboxJob] = {}
        self.by_token: dict[str, str] = {}

    def _s3(self):
        import boto3  # noqa: PLC0415

        endpoint = self.engine.config.s3_endpoint_url
        if not endpoint:
            raise SandboxError("ValidationException", "The sandbox has no S3 store (start it with an S3 port).")
        return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name=CONTROL_REGION,
                                              aws_access_key_id="sandbox", aws_secret_access_key="sandbox")

    # -- the four calls

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        for name in ("jobName", "roleArn", "modelId", "inputDataConfig", "outputDataConfig"):
            if not body.get(name):
                raise SandboxError("ValidationException", f"{name} is required.")
        if not _ROLE.fullmatch(body["roleArn"]):
            raise SandboxError("ValidationException", "roleArn is not an IAM role ARN.")
        base_id, _ = split_model_id(body["modelId"])
        published = PUBLISHED.get(base_id)
        if published is None:
            raise SandboxError("ResourceNotFoundException", f"Model {body['modelId']} not found.")
        if not published.batch_supported:
            raise SandboxError("ValidationException", f"Batch inference is not supported for {body['modelId']}.")
        for key, config in (("inputDataConfig", "s3InputDataConfig"), ("outputDataConfig", "s3OutputDataConfig")):
            if not _S3_URI.fullmatch(((body[key] or {}).get(config) or {}).get("s3Uri") or ""):
                raise SandboxError("ValidationException", f"{key}.{config}.s3Uri must be an s3:// URI.")
        token = body.get("clientRequestToken")
        with self.lock:
            if token and token in self.by_token:
                return {"jobArn": self.jobs[self.by_token[token]].arn}  # idempotent: the same job
            job = SandboxJob(job_id=uuid.uuid4().hex[:12], request=body)
            self.jobs[job.job_id] = job
            if token:
                self.by_token[token] = job.job_id
        threading.Thread(target=self._run, args=(job,), name=f"sandbox-batch-{job.job_id}", daemon=True).start()
        return {"jobArn": job.arn}

    def get(self, identifier: str) -> dict[str, Any]:
        return self._job(identifier).describe()

    def stop(self, identifier: str) -> dict[str, Any]:
        job = self._job(identifier)
        with self.lock:
            if job.status in ENDED:
                raise SandboxError("ValidationException", f"The job is {job.status} and cannot be stopped.")
            job.status, job.last_modified_time = "Stopping", _now()
            job.stop.set()
        return {}

    def list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        jobs = list(self.jobs.values())
        if "statusEquals" in query:
            jobs = [j for j in jobs if j.status == query["statusEquals"][0]]
        if "nameContains" in query:
            jobs = [j for j in jobs if query["nameContains"][0] in j.request["jobName"]]
        return {"invocationJobSummaries": [j.describe() for j in jobs]}

    def _job(self, identifier: str) -> SandboxJob:
        job = self.jobs.get(identifier.rsplit("/", 1)[-1])
        if job is None:
            raise SandboxError("ResourceNotFoundException", f"Model invocation job {identifier} not found.")
        return job

    # -- running a job

    def _set(self, job: SandboxJob, **fields: Any) -> None:
        with self.lock:
            for name, value in fields.items():
                setattr(job, name, value)
            job.last_modified_time = _now()

    def _run(self, job: SandboxJob) -> None:
        try:
            self._process(job)
        except SandboxError as error:
            self._set(job, status="Failed", message=error.message, end_time=_now())
        except Exception as exc:  # noqa: BLE001 - the job fails, as Bedrock's would, with the reason
            self._set(job, status="Failed", message=f"{type(exc).__name__}: {exc}", end_time=_now())

    def _process(self, job: SandboxJob) -> None:
        config = self.engine.config
        request = job.request
        model_id = request["modelId"]
        in_bucket, in_key = _S3_URI.fullmatch(request["inputDataConfig"]["s3InputDataConfig"]["s3Uri"]).groups()
        out_bucket, out_prefix = _S3_URI.fullmatch(request["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]).groups()
        self._set(job, status="Validating")
        s3 = self._s3()
        try:
            data = s3.get_object(Bucket=in_bucket, Key=in_key)["Body"].read()
        except Exception as exc:  # noqa: BLE001 - Bedrock reports an unreadable input on the job
            raise SandboxError("ValidationException", f"Could not read the input {in_key}: {exc}") from None
        lines = [line for line in data.decode("utf-8").splitlines() if line.strip()]
        if len(lines) < config.batch_min_records:
            raise SandboxError("ValidationException", f"The job has {len(lines)} records; the minimum number "
                                                      f"of records per batch inference job is {config.batch_min_records}.")
        self._set(job, status="InProgress", total=len(lines))
        fail_after = self._fail_after(model_id)
        out: list[str] = []
        for index, raw in enumerate(lines):
            if job.stop.is_set() or (config.batch_hold and not out and self._hold(job)):
                break
            if fail_after is not None and index >= fail_after:
                break
            out.append(json.dumps(self._answer(model_id, raw, job)))
        name = in_key.rsplit("/", 1)[-1]
        folder = f"{out_prefix.rstrip('/')}/{job.job_id}/".lstrip("/")
        s3.put_object(Bucket=out_bucket, Key=f"{folder}{name}.out", Body=("\n".join(out) + "\n").encode())
        s3.put_object(Bucket=out_bucket, Key=f"{folder}manifest.json.out", Body=json.dumps({
            "totalRecordCount": len(lines), "processedRecordCount": len(out), "successRecordCount": job.succeeded,
            "errorRecordCount": job.failed, "inputTokenCount": 0, "outputTokenCount": 0}).encode())
        if job.stop.is_set():
            status, message = "Stopped", "Stopped by StopModelInvocationJob."
        elif fail_after is not None and len(out) < len(lines):
            status = config.batch_fail_status
            message = ("The job did not finish within its timeout." if status == "Expired"
                       else "Internal error while processing the job.")
        else:
            status, message = "Completed", ""
        self._set(job, status=status, message=message, end_time=_now())

    def _hold(self, job: SandboxJob) -> bool:
        """batch_hold: the job stays in progress until stopped (or the hold is released)."""
        while self.engine.config.batch_hold and not job.stop.wait(0.05):
            pass
        return job.stop.is_set()

    def _fail_after(self, model_id: str) -> int | None:
        base_id, _ = split_model_id(model_id)
        for pattern, count in self.engine.config.batch_fail_after.items():
            if fnmatch.fnmatchcase(model_id, pattern) or fnmatch.fnmatchcase(base_id, pattern):
                return count
        return None

    def _answer(self, model_id: str, raw: str, job: SandboxJob) -> dict[str, Any]:
        try:
            record = json.loads(raw)
        except ValueError:
            record = {"recordId": None, "modelInput": raw}
        line = {"recordId": record.get("recordId"), "modelInput": record.get("modelInput")}
        try:
            body = converse_body(model_id, record.get("modelInput"))
            for _ in range(10):  # Bedrock retries throttling inside a batch job
                try:
                    reply = self.engine.converse(model_id, body, wait=False)
                    break
                except SandboxError as error:
                    if error.code not in RETRYABLE:
                        raise
            else:
                raise SandboxError("ServiceUnavailableException")
            line["modelOutput"] = native_output(model_id, reply)
            self.engine.state.record(model_id, "batch")
            self._set(job, processed=job.processed + 1, succeeded=job.succeeded + 1)
        except SandboxError as error:
            line["error"] = {"errorCode": error.status, "errorMessage": error.message}
            self._set(job, processed=job.processed + 1, failed=job.failed + 1)
        return line
