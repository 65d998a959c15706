"""Shared quotas: concurrency slots with expiring leases and per-minute rates, on both backends,
contended by real OS processes."""
import multiprocessing
import time
import uuid

import pytest

from bakeoff_jobs.quotas import (
    FileQuotaStore,
    QuotaTimeout,
    RedisQuotaStore,
    get_quota_store,
    model_slot,
)
from tests.bakeoff_jobs import quota_workers


def spec_of(store):
    if isinstance(store, RedisQuotaStore):
        return ("redis", _redis_url(store), store.prefix, store.window_seconds)
    return ("file", store.path, "", store.window_seconds)


def _redis_url(store):
    kwargs = store.redis.connection_pool.connection_kwargs
    return f"redis://{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def test_slots_stop_at_the_limit_and_come_back_on_release(quota_store):
    tokens = [quota_store.try_acquire("m", limit=2, lease_seconds=30) for _ in range(3)]

    assert tokens[0] and tokens[1] and tokens[2] is None
    assert quota_store.in_use("m") == 2
    quota_store.release("m", tokens[0])
    assert quota_store.try_acquire("m", limit=2, lease_seconds=30) is not None
    assert quota_store.try_acquire("other-model", limit=2, lease_seconds=30) is not None


def test_release_is_idempotent_and_only_frees_its_own_slot(quota_store):
    first = quota_store.try_acquire("m", limit=2, lease_seconds=30)
    quota_store.try_acquire("m", limit=2, lease_seconds=30)

    quota_store.release("m", first)
    quota_store.release("m", first)
    quota_store.release("m", "never-issued")

    assert quota_store.in_use("m") == 1


def test_leases_expire_and_renew_keeps_them(quota_store):
    held = quota_store.try_acquire("m", limit=1, lease_seconds=0.3)
    assert quota_store.try_acquire("m", limit=1, lease_seconds=0.3) is None

    time.sleep(0.15)
    assert quota_store.renew("m", held, lease_seconds=0.3) is True
    time.sleep(0.2)
    assert quota_store.try_acquire("m", limit=1, lease_seconds=0.3) is None  # renewed: still held
    time.sleep(0.15)

    assert quota_store.try_acquire("m", limit=1, lease_seconds=0.3) is not None
    assert quota_store.renew("m", held, lease_seconds=0.3) is False


def test_requests_per_minute_hold_within_the_window(quota_store):
    # The fixtures use a 1-second window so the minute passes quickly.
    waits = [quota_store.reserve_rate("m", rpm=5, tpm=None, tokens=10) for _ in range(7)]

    assert waits[:5] == [0.0] * 5
    assert all(0.0 < wait <= 1.0 for wait in waits[5:])
    # The two refused requests were not recorded: a limit of 7 has room for exactly two more.
    assert [quota_store.reserve_rate("m", rpm=7, tpm=None, tokens=10) > 0 for _ in range(3)] == [False, False, True]
    time.sleep(waits[-1] + 0.02)
    assert quota_store.reserve_rate("m", rpm=5, tpm=None, tokens=10) == 0.0


def test_tokens_per_minute_hold_within_the_window(quota_store):
    assert quota_store.reserve_rate("m", rpm=None, tpm=100, tokens=60) == 0.0
    assert quota_store.reserve_rate("m", rpm=None, tpm=100, tokens=60) > 0.0
    assert quota_store.reserve_rate("m", rpm=None, tpm=100, tokens=40) == 0.0
    assert quota_store.reserve_rate("m", rpm=None, tpm=100, tokens=1) > 0.0
    assert quota_store.reserve_rate("m", rpm=None, tpm=None, tokens=10**6) == 0.0


def test_processes_and_threads_never_exceed_the_concurrency_limit(quota_store):
    context = multiprocessing.get_context("spawn")
    current, peak, lock = context.Value("i", 0, lock=False), context.Value("i", 0, lock=False), context.Lock()
    key = f"contended-{uuid.uuid4().hex}"
    workers = [
        context.Process(target=quota_workers.contend,
                        args=(spec_of(quota_store), key, 3, 8, 4, current, peak, lock))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert [worker.exitcode for worker in workers] == [0, 0]
    assert peak.value == 3
    assert current.value == 0
    assert quota_store.in_use(key) == 0


def test_a_killed_workers_slot_comes_back_after_its_lease(quota_store):
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=quota_workers.hold_and_die, args=(spec_of(quota_store), "m", 0.6, sender))
    worker.start()
    assert receiver.poll(20) and receiver.recv() is True
    worker.join(timeout=10)

    assert quota_store.try_acquire("m", limit=1, lease_seconds=5) is None
    with model_slot(quota_store, "m", limit=1, lease_seconds=5, timeout=5) as token:
        assert token


def test_model_slot_waits_for_rate_and_gives_up_at_timeout(quota_store):
    for _ in range(2):
        with model_slot(quota_store, "m", limit=1, lease_seconds=5, rpm=2, tokens=5, timeout=1):
            pass

    started = time.monotonic()
    with pytest.raises(QuotaTimeout):
        with model_slot(quota_store, "m", limit=1, lease_seconds=5, rpm=2, tokens=5, timeout=0.2):
            pass
    assert time.monotonic() - started < 0.5
    assert quota_store.in_use("m") == 0  # the slot taken while waiting for the rate went back


def test_model_slot_releases_when_the_block_raises(quota_store):
    with pytest.raises(RuntimeError):
        with model_slot(quota_store, "m", limit=1, lease_seconds=5):
            raise RuntimeError("the call failed")

    assert quota_store.in_use("m") == 0


def test_limits_below_one_are_refused(quota_store):
    with pytest.raises(ValueError):
        quota_store.try_acquire("m", limit=0, lease_seconds=1)
    with pytest.raises(ValueError):
        quota_store.reserve_rate("m", rpm=0, tpm=None, tokens=1)


def test_store_follows_settings(settings, tmp_path):
    settings.RATE_LIMIT_REDIS_URL = ""
    settings.RATE_LIMIT_FILE = str(tmp_path / "q.sqlite3")
    assert isinstance(get_quota_store(), FileQuotaStore)
    assert get_quota_store() is get_quota_store()

    settings.RATE_LIMIT_REDIS_URL = "redis://127.0.0.1:6379/15"
    assert isinstance(get_quota_store(), RedisQuotaStore)  # no connection is made until first use
