"""The one place a Redis client is made (rate limits, token lockouts, model quotas, the test suite and
the benchmarks), and the one way a key CloudRoute writes is named: under REDIS_KEY_PREFIX, so runs
and sites that share a server never touch each other's keys. (The cache and the Celery broker are
Django's and Celery's own clients, configured in settings.)"""
from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    import redis


def redis_client(url: str, *, timeout: float | None = None, connect_timeout: float | None = None) -> "redis.Redis":
    """A client for `url` (redis://host:port/db, rediss://, unix://). `timeout` bounds each command and,
    unless `connect_timeout` is given, connecting too; None waits as long as the server takes."""
    import redis  # noqa: PLC0415 - only processes that use Redis need the package loaded

    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout if connect_timeout is None else connect_timeout,
    )


def redis_key(*parts: object) -> str:
    """REDIS_KEY_PREFIX and `parts`, joined by ":" (an empty last part leaves a trailing ":" to append to)."""
    return ":".join([settings.REDIS_KEY_PREFIX, *map(str, parts)])
