"""Suite-wide fixtures: the three standing users and the factories live in tests/factories.py.

The suite may share its Redis with anything else (a dev server, another test run, a broker): every
key it writes starts with RUN_KEY_PREFIX, unique to this run (the workers and servers it starts get
the prefix through the environment), and it deletes only keys under that prefix, never a database."""
import copy
import os
import uuid

import pytest

RUN_KEY_PREFIX = f"cloudroute-test-{uuid.uuid4().hex[:12]}"
os.environ["REDIS_KEY_PREFIX"] = RUN_KEY_PREFIX

_redis_clients: dict = {}


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def run_redis_urls() -> list[str]:
    """The Redis databases this run writes prefixed keys to: the cache's and the rate limits'."""
    from django.conf import settings

    urls = {settings.RATE_LIMIT_REDIS_URL}
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        urls.add(settings.CACHES["default"]["LOCATION"])
    return sorted(url for url in urls if url)


def delete_run_keys(prefix: str = RUN_KEY_PREFIX) -> int:
    """Deletes the keys under `prefix` (SCAN MATCH prefix:*) and nothing else; returns how many."""
    import redis

    from core.redis import redis_client

    deleted = 0
    for url in run_redis_urls():
        client = _redis_clients.get(url)
        if client is None:
            client = _redis_clients[url] = redis_client(url, timeout=10, connect_timeout=2)
        try:
            keys = list(client.scan_iter(match=f"{_glob_escape(prefix)}:*", count=1000))
            for start in range(0, len(keys), 500):
                deleted += client.delete(*keys[start:start + 500])
        except (redis.ConnectionError, redis.TimeoutError):
            continue  # a test pointed this run at a Redis that is not there: it holds nothing of ours
    return deleted


@pytest.fixture(scope="session", autouse=True)
def _run_key_prefix(tmp_path_factory):
    """This run's keys under RUN_KEY_PREFIX; without Redis, a cache directory of its own."""
    from django.conf import settings
    from django.test.utils import override_settings

    caches = copy.deepcopy(settings.CACHES)
    if caches["default"]["BACKEND"].endswith("RedisCache"):
        caches["default"]["KEY_PREFIX"] = f"{RUN_KEY_PREFIX}:cache"
    else:
        caches["default"]["LOCATION"] = str(tmp_path_factory.mktemp("cache"))
    override = override_settings(REDIS_KEY_PREFIX=RUN_KEY_PREFIX, CACHES=caches)
    override.enable()
    yield
    delete_run_keys()
    override.disable()


@pytest.fixture
def pools(db):
    """The reference credit pools and their first published rule versions."""
    from matching.pool_rules import pools_seed

    return {pool.slug: pool for pool in pools_seed()}


@pytest.fixture
def staff_user(db):
    from tests.factories import StaffUserFactory

    return StaffUserFactory(username="staff")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.2 s a password; the suite only needs passwords to round-trip.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache(_run_key_prefix):
    """Every test starts with no cache entries and no rate-limit counts: this run's keys are deleted
    (never a whole Redis database), and the in-process fallback counters are reset."""
    from django.conf import settings
    from django.core.cache import cache

    from core import ratelimit

    if run_redis_urls():
        delete_run_keys()
    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        cache.clear()  # this run's own directory (see _run_key_prefix)
    ratelimit._memory.__init__()
    ratelimit._state.update(down_until=0.0, logged_at=float("-inf"))
    yield


@pytest.fixture
def celery_eager():
    """Celery tasks queued in the test run in-process (e.g. the founder's status email)."""
    from cloudroute.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous
