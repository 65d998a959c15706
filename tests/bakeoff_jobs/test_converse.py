"""The Converse client: boto3's real client against the local sandbox, and the exact request sent."""
import random
import socket

import pytest
from botocore.stub import Stubber

from bakeoff_jobs.converse import (
    ConverseError,
    ConverseReply,
    backoff_delay,
    converse,
    count_tokens,
    make_client,
)
from bedrock_sandbox.config import ERRORS

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
RETRYABLE = {"ThrottlingException", "ServiceUnavailableException", "ModelTimeoutException",
             "ModelNotReadyException", "InternalServerException"}


@pytest.fixture
def client(bedrock_sandbox):
    return make_client(endpoint_url=bedrock_sandbox.url)


def ask(client, **overrides):
    arguments = {"model_id": SONNET, "prompt": "What is 2+2?", "max_tokens": 100, "temperature": 0.0}
    arguments.update(overrides)
    return converse(client, **arguments)


def test_reply_carries_text_usage_and_sandbox_origin(client, bedrock_sandbox):
    from bedrock_sandbox.config import ScriptLine

    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="2+2", answer="4")]
    bedrock_sandbox.config.latency_ms = 30.0

    reply = ask(client, system_prompt="Answer with a number.")

    assert isinstance(reply, ConverseReply)
    assert (reply.text, reply.stop_reason, reply.sandbox) == ("4", "end_turn", True)
    assert reply.input_tokens == 9  # "Answer with a number." + "What is 2+2?" = 33 characters
    assert reply.output_tokens == 1
    assert reply.latency_ms == 30
    assert reply.wall_ms >= 30


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_errors_are_classified_for_retry(client, bedrock_sandbox, code):
    bedrock_sandbox.config.set_model(SONNET, fail_with=code)

    with pytest.raises(ConverseError) as caught:
        ask(client)

    assert caught.value.code == code
    assert caught.value.http_status == ERRORS[code][0]
    assert caught.value.retryable is (code in RETRYABLE)
    assert bedrock_sandbox.calls(SONNET) == 1  # botocore did not retry on its own


def test_bare_id_of_new_claude_is_a_permanent_validation_error(client):
    with pytest.raises(ConverseError) as caught:
        ask(client, model_id="anthropic.claude-sonnet-4-5-20250929-v1:0")

    assert (caught.value.code, caught.value.retryable) == ("ValidationException", False)
    assert "inference profile" in caught.value.message


def test_cached_system_prompt_is_written_then_read(client):
    system = "Policy: " + "Classify each support ticket by urgency and product area. " * 80

    first = ask(client, system_prompt=system, cache_system_prompt=True)
    second = ask(client, system_prompt=system, cache_system_prompt=True, prompt="Another ticket")
    uncached = ask(client, system_prompt=system, prompt="Third ticket")

    assert first.cache_write_tokens > 1024 and first.cache_read_tokens == 0
    assert second.cache_read_tokens == first.cache_write_tokens and second.cache_write_tokens == 0
    assert uncached.cache_read_tokens == uncached.cache_write_tokens == 0


def test_unreachable_endpoint_is_retryable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the call: nothing listens there

    with pytest.raises(ConverseError) as caught:
        ask(make_client(endpoint_url=f"http://127.0.0.1:{port}"))

    assert caught.value.retryable is True
    assert caught.value.http_status is None


def test_request_parameters_sent_to_bedrock(bedrock_sandbox):
    client = make_client(endpoint_url=bedrock_sandbox.url, max_pool_connections=2)
    expected = {
        "modelId": SONNET,
        "messages": [{"role": "user", "content": [{"text": "Summarise this"}]}],
        "system": [{"text": "You are terse."}, {"cachePoint": {"type": "default"}}],
        "inferenceConfig": {"maxTokens": 64, "temperature": 0.2},
    }
    response = {
        "output": {"message": {"role": "assistant", "content": [{"text": "Short."}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 7, "outputTokens": 2, "totalTokens": 9,
                  "cacheReadInputTokens": 3, "cacheWriteInputTokens": 0},
        "metrics": {"latencyMs": 120},
    }

    with Stubber(client) as stubber:
        stubber.add_response("converse", response, expected)
        reply = converse(client, model_id=SONNET, prompt="Summarise this", system_prompt="You are terse.",
                         max_tokens=64, temperature=0.2, cache_system_prompt=True)
        stubber.assert_no_pending_responses()

    assert (reply.text, reply.cache_read_tokens, reply.latency_ms, reply.sandbox) == ("Short.", 3, 120, False)


def test_count_tokens_before_a_run(client):
    # CountTokens takes the bare foundation-model id, not the profile a call goes through
    bare = SONNET.removeprefix("us.")
    assert count_tokens(client, model_id=bare, prompt="x" * 40, system_prompt="y" * 8) == 12


def test_clients_are_cached_per_endpoint_and_region(bedrock_sandbox):
    first = make_client(endpoint_url=bedrock_sandbox.url)

    assert make_client(endpoint_url=bedrock_sandbox.url) is first
    assert make_client(endpoint_url=bedrock_sandbox.url, region="eu-west-1") is not first
    assert first.meta.config.retries["total_max_attempts"] == 1


def test_endpoint_and_region_come_from_settings(settings, bedrock_sandbox):
    settings.BEDROCK_ENDPOINT_URL = bedrock_sandbox.url
    settings.BEDROCK_REGION = "us-west-2"

    client = make_client()

    assert client.meta.endpoint_url == bedrock_sandbox.url
    assert client.meta.region_name == "us-west-2"
    assert ask(client).sandbox is True


def _no_aws_credentials(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_dummy_credentials_only_for_the_local_sandbox(monkeypatch, tmp_path):
    _no_aws_credentials(monkeypatch, tmp_path)

    local = make_client(endpoint_url="http://127.0.0.1:1", region="ap-south-1")
    real = make_client(endpoint_url="https://bedrock-runtime.ap-south-1.amazonaws.com", region="ap-south-1")

    assert local._request_signer._credentials.access_key == "sandbox"
    assert real._request_signer._credentials is None


def test_backoff_is_full_jitter_exponential_and_capped():
    rng = random.Random(7)

    for attempt in range(12):
        ceiling = min(10.0, 0.2 * 2**attempt)
        delays = [backoff_delay(attempt, rng=rng) for _ in range(50)]
        assert all(0.0 <= delay <= ceiling for delay in delays)
    assert max(backoff_delay(30, rng=rng) for _ in range(200)) > 5.0
    assert backoff_delay(3, base=1.0, cap=2.0, rng=rng) <= 2.0
