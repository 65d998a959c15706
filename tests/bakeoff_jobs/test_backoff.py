"""A retry's backoff counts from the throttled call's start: a throttle that already cost the call's
full latency is not followed by as long a wait again, while its slot idles."""
import threading
import time
from types import SimpleNamespace

import pytest

from bakeoff_jobs import converse as bedrock
from bakeoff_jobs import model_calls


class RecordingStop(threading.Event):
    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout=None) -> bool:
        self.waits.append(timeout)
        return False


@pytest.mark.parametrize("throttle_after_s, expected_wait", [(0.0, 0.15), (0.2, None)],
                         ids=["throttled-at-once", "throttled-after-the-latency"])
def test_backoff_counts_from_the_throttled_calls_start(monkeypatch, settings, file_quota_store,
                                                       throttle_after_s, expected_wait):
    settings.BAKEOFF_MAX_ATTEMPTS = 3
    calls = []

    def converse(client, **kwargs):
        calls.append(kwargs["model_id"])
        if len(calls) == 1:
            time.sleep(throttle_after_s)
            raise bedrock.ConverseError("ThrottlingException", "slow down", retryable=True, http_status=429)
        return "the answer"

    monkeypatch.setattr(bedrock, "converse", converse)
    monkeypatch.setattr(bedrock, "backoff_delay", lambda attempt, base: 0.15)
    model = SimpleNamespace(pk=1, invoked_id="m", max_concurrency=1, requests_per_minute=None, tokens_per_minute=None)
    stop = RecordingStop()
    ctx = model_calls.CallContext(run_model=model, call=None, client=None, store=file_quota_store, stop=stop)

    reply, attempts = model_calls.call_with_retries(ctx, model, prompt="p", system_prompt="", max_tokens=8,
                                               temperature=0.0, cache_system_prompt=False)

    assert (reply, attempts) == ("the answer", 2)
    if expected_wait is None:
        assert stop.waits == []  # the 0.2 s the throttle took already spaced the retry out
    else:
        assert len(stop.waits) == 1 and expected_wait - 0.02 <= stop.waits[0] <= expected_wait
