"""The suite can share a Redis with anything else: every key it writes is under this run's prefix,
and it deletes only those, never a database (a FLUSHDB would take a dev server's cache and a
broker's queues with it)."""
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from core.redis import redis_client
from tests.conftest import RUN_KEY_PREFIX, delete_run_keys, run_redis_urls

ROOT = Path(__file__).resolve().parents[1]

needs_redis = pytest.mark.skipif(not run_redis_urls(), reason="no Redis configured (CELERY_BROKER_URL/REDIS_URL)")


def _clients():
    return [redis_client(url) for url in run_redis_urls()]


@pytest.fixture(scope="module")
def planted():
    """Planted before this module's first test, so before that test's per-test cleanup ran."""
    if not run_redis_urls():
        yield []
        return
    keys = []
    for client in _clients():
        other, ours = f"someone-else:{uuid.uuid4().hex}", f"{RUN_KEY_PREFIX}:planted:{uuid.uuid4().hex}"
        client.set(other, "keep", ex=600)
        client.set(ours, "stale", ex=600)
        keys.append((client, other, ours))
    yield keys
    for client, other, _ in keys:
        client.delete(other)  # it was ours after all


@needs_redis
def test_someone_elses_key_survives_the_per_test_cleanup(planted):
    assert planted
    for client, other, ours in planted:
        assert client.get(other) == b"keep"
        assert not client.exists(ours)  # this run's own leftovers are gone


@needs_redis
def test_the_cleanup_deletes_only_this_runs_keys():
    client = _clients()[0]
    neighbour = f"cloudroute:cache:{uuid.uuid4().hex}"  # a dev server's cache on the same database
    lookalike = f"{RUN_KEY_PREFIX}x:{uuid.uuid4().hex}"  # a longer prefix is another run's
    mine = f"{RUN_KEY_PREFIX}:probe:{uuid.uuid4().hex}"
    try:
        for key in (neighbour, lookalike, mine):
            client.set(key, "1", ex=600)
        assert delete_run_keys() >= 1
        assert client.exists(neighbour) and client.exists(lookalike) and not client.exists(mine)
    finally:
        client.delete(neighbour, lookalike)


@needs_redis
def test_the_cache_rate_limits_and_quotas_write_under_the_runs_prefix():
    from django.core.cache import cache

    from bakeoff_jobs.quotas import get_quota_store
    from core.ratelimit import SlidingWindow

    cache.set("probe", 1, 60)
    SlidingWindow("probe", 5, 60).hit("192.0.2.1")
    written = []
    for url in run_redis_urls():
        written += [key.decode() for key in redis_client(url).scan_iter(match=f"{RUN_KEY_PREFIX}:*")]
    assert any(key.startswith(f"{RUN_KEY_PREFIX}:cache:") for key in written)
    assert any(key.startswith(f"{RUN_KEY_PREFIX}:ratelimit:probe:") for key in written)
    if settings.RATE_LIMIT_REDIS_URL:
        assert get_quota_store().prefix == f"{RUN_KEY_PREFIX}:quota:"


def test_workers_and_servers_started_by_the_tests_inherit_the_prefix():
    import os

    assert os.environ["REDIS_KEY_PREFIX"] == RUN_KEY_PREFIX == settings.REDIS_KEY_PREFIX


def test_no_test_or_benchmark_flushes_a_redis_database():
    flushes = ("flush" + "db(", "flush" + "all(")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if any(flush in path.read_text() for flush in flushes)
    ]
    assert offenders == []
