"""Fixtures for the bake-off's AWS boundary: the local Bedrock sandbox and the shared quota stores."""
import uuid

import pytest

from bedrock_sandbox.config import SandboxConfig

from bedrock_sandbox.server import start_in_thread


@pytest.fixture(scope="session")
def _sandbox_server():
    handle = start_in_thread(SandboxConfig(latency_ms=0.0))
    yield handle
    handle.stop()


@pytest.fixture
def bedrock_sandbox(_sandbox_server):
    """The local Converse sandbox on an ephemeral 127.0.0.1 port (.url, .config, .calls(), .reset()).
    Tests may change .config freely: it is reset before and after each test."""
    _sandbox_server.reset()
    yield _sandbox_server
    _sandbox_server.reset()


def _redis_url() -> str | None:
    from django.conf import settings

    return settings.RATE_LIMIT_REDIS_URL or None


@pytest.fixture
def file_quota_store(tmp_path):
    from bakeoff_jobs.quotas import FileQuotaStore

    return FileQuotaStore(tmp_path / "quotas.sqlite3", window_seconds=1.0)


@pytest.fixture
def redis_quota_store():
    url = _redis_url()
    if url is None:
        pytest.skip("no Redis given (REDIS_URL, RATE_LIMIT_REDIS_URL or a redis:// CELERY_BROKER_URL)")
    from django.conf import settings

    from bakeoff_jobs.quotas import RedisQuotaStore

    # Under this run's key prefix, in the rate limits' database: only this test's keys are deleted.
    store = RedisQuotaStore(url, window_seconds=1.0, prefix=f"{settings.REDIS_KEY_PREFIX}:quota-test:{uuid.uuid4().hex}:")
    try:
        store.redis.ping()
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not available here"
        pytest.skip(f"Redis at {url} is not reachable: {exc}")
    yield store
    for key in store.redis.scan_iter(match=f"{store.prefix}*"):
        store.redis.delete(key)


@pytest.fixture(params=["file", "redis"])
def quota_store(request):
    """Each quota test runs against both backends (Redis is skipped when none is given)."""
    return request.getfixturevalue(f"{request.param}_quota_store")
