"""Bedrock batch inference on the wire: each family's native request body (batch takes InvokeModel
bodies, not Converse), the input and output JSONL records, the S3 store and the control-plane
calls (CreateModelInvocationJob, GetModelInvocationJob, StopModelInvocationJob). No ORM here."""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from .converse import aws_client_kwargs, is_local_endpoint

ANTHROPIC_VERSION = "bedrock-2023-05-31"
RECORD_PREFIX = "case"


class BatchError(Exception):
    """A batch call or file that failed, with a message fit for the run's history."""


def family_of(model_id: str) -> str:
    """'claude' or 'llama' from a model or profile id (us.anthropic.…, meta.llama3-…)."""
    base = model_id.split(".", 1)[1] if model_id.split(".", 1)[0] in {"us", "eu", "apac", "global"} else model_id
    if base.startswith("anthropic."):
        return "claude"
    if base.startswith("meta."):
        return "llama"
    raise BatchError(f"No batch request format for {model_id}")


# --------------------------------------------------------------------------- native bodies


def llama_prompt(prompt: str, system_prompt: str = "") -> str:
    """The Llama 3 instruct prompt format Bedrock's InvokeModel takes for meta.llama3* models."""
    text = "<|begin_of_text|>"
    if system_prompt:
        text += f"<|start_header_id|>system<|end_header_id|>\n\n{system_prompt}<|eot_id|>"
    return text + (f"<|start_header_id|>user<|end_header_id|>\n\n{prompt}<|eot_id|>"
                   "<|start_header_id|>assistant<|end_header_id|>\n\n")


_LLAMA_TURN = re.compile(r"<\|start_header_id\|>(system|user|assistant)<\|end_header_id\|>\n\n(.*?)(?:<\|eot_id\|>|$)",
                         re.S)


def parse_llama_prompt(text: str) -> tuple[str, str]:
    """(system, user) texts of a Llama 3 prompt; the sandbox reads records back with it."""
    turns = {role: body for role, body in _LLAMA_TURN.findall(text) if body}
    return turns.get("system", ""), turns.get("user", "")


def model_input(model_id: str, *, prompt: str, system_prompt: str, max_tokens: int, temperature: float) -> dict:
    """The InvokeModel body of one case for the model's family."""
    if family_of(model_id) == "claude":
        body: dict[str, Any] = {
            "anthropic_version": ANTHROPIC_VERSION,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
        }
        if system_prompt:
            body["system"] = system_prompt
        return body
    return {"prompt": llama_prompt(prompt, system_prompt), "max_gen_len": max_tokens, "temperature": temperature}


def record_id(case_id: int) -> str:
    return f"{RECORD_PREFIX}{case_id}"


def case_of_record(value: Any) -> int | None:
    match = re.fullmatch(rf"{RECORD_PREFIX}(\d+)", str(value or ""))
    return int(match.group(1)) if match else None


def input_jsonl(records: list[tuple[int, dict]]) -> bytes:
    return "".join(json.dumps({"recordId": record_id(case_id), "modelInput": body}) + "\n"
                   for case_id, body in records).encode()


@dataclass(frozen=True)
class RecordOutcome:
    """One output record read back: an answer with its own usage, or the record's error."""

    case_id: int
    text: str = ""
    stop_reason: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    error_code: str = ""
    error_message: str = ""

    @property
    def ok(self) -> bool:
        return not self.error_code


def _count(value: Any) -> int:
    """A token count from an output record: a non-negative whole number, else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _text(value: Any, limit: int | None = None) -> str:
    text = value if isinstance(value, str) else ""
    return text[:limit] if limit else text


def parse_output_record(line: dict, family: str) -> RecordOutcome | None:
    """A `.jsonl.out` line: {"recordId", "modelInput", "modelOutput"} or {..., "error"}. None when
    the line names no case of ours. A modelOutput that is not the family's format is the record's
    error, never a crash."""
    case_id = case_of_record(line.get("recordId"))
    if case_id is None:
        return None
    error = line.get("error")
    output = line.get("modelOutput")
    if error or not isinstance(output, dict):
        error = error if isinstance(error, dict) else {"errorMessage": str(error or "no modelOutput")}
        return RecordOutcome(case_id, error_code=str(error.get("errorCode") or "RecordError")[:80],
                             error_message=str(error.get("errorMessage") or "")[:2000])
    if family == "claude":
        usage = output.get("usage") if isinstance(output.get("usage"), dict) else {}
        content = output.get("content") if isinstance(output.get("content"), list) else []
        text = "".join(_text(b.get("text")) for b in content if isinstance(b, dict))
        return RecordOutcome(case_id, text=text, stop_reason=_text(output.get("stop_reason"), 40),
                             input_tokens=_count(usage.get("input_tokens")),
                             output_tokens=_count(usage.get("output_tokens")))
    return RecordOutcome(case_id, text=_text(output.get("generation")), stop_reason=_text(output.get("stop_reason"), 40),
                         input_tokens=_count(output.get("prompt_token_count")),
                         output_tokens=_count(output.get("generation_token_count")))


def parse_output_file(data: bytes, family: str) -> tuple[list[RecordOutcome], int]:
    """Every record of an output file, and how many lines could not be read."""
    outcomes, unreadable = [], 0
    for raw in data.decode("utf-8", errors="replace").splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            unreadable += 1
            continue
        outcome = parse_output_record(line, family) if isinstance(line, dict) else None
        if outcome is None:
            unreadable += 1
        else:
            outcomes.append(outcome)
    return outcomes, unreadable


# --------------------------------------------------------------------------- names


def client_request_token(run_id: int, run_model_id: int, attempt: int) -> str:
    """Derived from the run, the model and the attempt: a resubmission creates nothing new."""
    return f"cloudroute-run{run_id}-model{run_model_id}-job{attempt}"


def job_name(run_id: int, run_model_id: int, attempt: int) -> str:
    return f"cloudroute-bakeoff-{run_id}-{run_model_id}-{attempt}"[:63]


def run_prefix(run_id: int) -> str:
    base = settings.BAKEOFF_BATCH_PREFIX
    return f"{base}/run-{run_id}/" if base else f"run-{run_id}/"


def s3_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc:
        raise BatchError(f"not an s3:// URI: {uri}")
    return parts.netloc, parts.path.lstrip("/")


def job_id_of(job_arn: str) -> str:
    return job_arn.rsplit("/", 1)[-1]


def output_key(output_uri: str, job_arn: str, input_uri: str) -> tuple[str, str]:
    """Bedrock writes `<output prefix>/<job id>/<input file name>.out`."""
    bucket, prefix = split_s3_uri(output_uri)
    _, input_key = split_s3_uri(input_uri)
    name = input_key.rsplit("/", 1)[-1]
    return bucket, f"{prefix.rstrip('/')}/{job_id_of(job_arn)}/{name}.out".lstrip("/")


# --------------------------------------------------------------------------- clients


_clients: dict[tuple[str, str, str], Any] = {}
_clients_lock = threading.Lock()
_buckets_ready: set[tuple[str, str]] = set()


def _client(service: str, endpoint_url: str, region: str):
    """One boto3 client per service, endpoint and region (they are thread-safe; building one is slow)."""
    key = (service, endpoint_url, region)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = boto3.session.Session().client(service, **aws_client_kwargs(endpoint_url, region))
        return _clients[key]


def control_client(endpoint_url: str | None = None):
    """boto3's bedrock client for the batch calls (settings.BEDROCK_CONTROL_ENDPOINT_URL or AWS)."""
    if endpoint_url is None:
        endpoint_url = settings.BEDROCK_CONTROL_ENDPOINT_URL
    return _client("bedrock", endpoint_url or "", settings.BAKEOFF_BATCH_REGION)


def storage_client():
    """boto3's s3 client for the batch files (a local moto server on the embedded default)."""
    endpoint = settings.BAKEOFF_BATCH_S3_ENDPOINT_URL or ""
    return _client("s3", endpoint, settings.BAKEOFF_BATCH_REGION)


def require_configuration() -> None:
    missing = [name for name in ("BAKEOFF_BATCH_BUCKET", "BAKEOFF_BATCH_ROLE_ARN") if not getattr(settings, name)]
    if missing:
        raise BatchError(f"Batch bake-offs need {' and '.join(missing)} (see README, Batch bake-offs).")


def ensure_bucket(s3) -> None:
    """The local store starts empty: create the bucket there. Real buckets are made by the operator."""
    endpoint, bucket = settings.BAKEOFF_BATCH_S3_ENDPOINT_URL, settings.BAKEOFF_BATCH_BUCKET
    if not is_local_endpoint(endpoint) or (endpoint, bucket) in _buckets_ready:
        return
    try:
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError:
            s3.create_bucket(Bucket=bucket)
    except (ClientError, BotoCoreError) as exc:
        raise BatchError(f"could not write s3://{bucket}/ at {endpoint}: {exc}") from exc
    _buckets_ready.add((endpoint, bucket))


def put_input(s3, key: str, data: bytes) -> str:
    bucket = settings.BAKEOFF_BATCH_BUCKET
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/jsonl")
    except (ClientError, BotoCoreError) as exc:
        raise BatchError(f"could not write {s3_uri(bucket, key)}: {exc}") from exc
    return s3_uri(bucket, key)


def read_output(s3, bucket: str, key: str) -> bytes | None:
    """The output file, or None when the job wrote none (yet)."""
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
            return None
        raise BatchError(f"could not read s3://{bucket}/{key}: {exc}") from exc
    except BotoCoreError as exc:
        raise BatchError(f"could not read s3://{bucket}/{key}: {exc}") from exc


def delete_prefix(s3, prefix: str) -> int:
    """Remove every object under the prefix (a deleted run's files); returns how many."""
    bucket, removed = settings.BAKEOFF_BATCH_BUCKET, 0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents") or []]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            removed += len(keys)
    return removed


def create_job(client, *, name: str, token: str, model_id: str, input_uri: str, output_uri: str) -> str:
    """CreateModelInvocationJob; the same token returns the same job. Returns the job ARN."""
    try:
        response = client.create_model_invocation_job(
            jobName=name, clientRequestToken=token, roleArn=settings.BAKEOFF_BATCH_ROLE_ARN, modelId=model_id,
            inputDataConfig={"s3InputDataConfig": {"s3Uri": input_uri, "s3InputFormat": "JSONL"}},
            outputDataConfig={"s3OutputDataConfig": {"s3Uri": output_uri}},
            timeoutDurationInHours=settings.BAKEOFF_BATCH_TIMEOUT_HOURS,
        )
    except (ClientError, BotoCoreError) as exc:
        raise BatchError(f"CreateModelInvocationJob for {model_id} failed: {exc}") from exc
    return response["jobArn"]


def get_job(client, job_arn: str) -> dict:
    try:
        return client.get_model_invocation_job(jobIdentifier=job_arn)
    except (ClientError, BotoCoreError) as exc:
        raise BatchError(f"GetModelInvocationJob {job_arn} failed: {exc}") from exc


def stop_job(client, job_arn: str) -> bool:
    """StopModelInvocationJob; False when the job had already ended (nothing to stop)."""
    try:
        client.stop_model_invocation_job(jobIdentifier=job_arn)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"ValidationException", "ConflictException"}:
            return False
        raise BatchError(f"StopModelInvocationJob {job_arn} failed: {exc}") from exc
    except BotoCoreError as exc:
        raise BatchError(f"StopModelInvocationJob {job_arn} failed: {exc}") from exc
    return True
