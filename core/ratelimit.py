"""Client addresses, and the sliding-window counters every limit shares: the public intake (API and
form) and wrong API tokens. django-axes takes its client address from here too.

Counters live in Redis (RATE_LIMIT_REDIS_URL) so every process counts together, else in Django's
cache (the file cache of local runs). A store that cannot be reached never lifts a limit silently:
the process counts in its own memory until the store answers again (each process then allows the
limit on its own), and logs an ERROR at most once per RATE_LIMIT_STORE_ERROR_LOG_SECONDS so
monitoring alerts."""
from __future__ import annotations

import ipaddress
import logging
import threading
import time
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache

from .redis import redis_client, redis_key

log = logging.getLogger(__name__)

# The bucket for requests without a usable address (an address, never bound to).
UNKNOWN_ADDRESS = "0.0.0.0"  # nosec B104
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# --- client addresses ---------------------------------------------------------------------------------


def _parse_address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(request: Any) -> str:
    """The address every limit and the login lockout count against.

    REMOTE_ADDR, unless TRUSTED_PROXY_COUNT (default 0) proxies in front of the app append to
    X-Forwarded-For: then the Nth address from the right of that header, the one the outermost trusted
    proxy saw. Entries to the left of it are whatever the client sent and are never read. An IPv6
    client counts as its /64 network (one subscriber's allocation), so rotating addresses within it
    gains nothing."""
    meta = request.META
    address = _parse_address(meta.get("REMOTE_ADDR", "") or "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [hop for hop in (meta.get("HTTP_X_FORWARDED_FOR", "") or "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            address = _parse_address(hops[-proxies]) or address
    if address is None:
        return UNKNOWN_ADDRESS
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Address(int(address) >> 64 << 64))
    return str(address)


# --- counter stores -----------------------------------------------------------------------------------


class CounterStore(Protocol):
    def add(self, key: str, previous_key: str, ttl: int) -> tuple[int, int]:
        """Adds one to `key` (expiring after `ttl` s); returns (its count now, previous_key's count)."""

    def peek(self, key: str, previous_key: str) -> tuple[int, int]:
        """The two counts, unchanged."""

    def remove_one(self, key: str) -> None:
        """Takes back one count from `key`."""


class RedisCounters:
    """One pipelined round trip a request, whatever the limit."""

    def __init__(self, url: str) -> None:
        self.redis = redis_client(url, timeout=1)

    def add(self, key: str, previous_key: str, ttl: int) -> tuple[int, int]:
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, ttl)
        pipe.get(previous_key)
        current, _, previous = pipe.execute()
        return int(current), int(previous or 0)

    def peek(self, key: str, previous_key: str) -> tuple[int, int]:
        current, previous = self.redis.mget([key, previous_key])
        return int(current or 0), int(previous or 0)

    def remove_one(self, key: str) -> None:
        self.redis.decr(key)


class CacheCounters:
    """Django's cache (the file cache every local process shares)."""

    def add(self, key: str, previous_key: str, ttl: int) -> tuple[int, int]:
        cache.add(key, 0, timeout=ttl)
        try:
            current = cache.incr(key)
        except ValueError:  # evicted between the two calls: start the window again
            cache.set(key, 1, timeout=ttl)
            current = 1
        return current, int(cache.get(previous_key) or 0)

    def peek(self, key: str, previous_key: str) -> tuple[int, int]:
        return int(cache.get(key) or 0), int(cache.get(previous_key) or 0)

    def remove_one(self, key: str) -> None:
        try:
            cache.decr(key)
        except ValueError:
            pass


class MemoryCounters:
    """This process only: the stand-in while the shared store cannot be reached."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _get(self, key: str, now: float) -> int:
        count, expires = self._counts.get(key, (0, 0.0))
        return count if expires > now else 0

    def add(self, key: str, previous_key: str, ttl: int) -> tuple[int, int]:
        with self._lock:
            now = time.monotonic()
            if len(self._counts) >= self.MAX_KEYS:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                if len(self._counts) >= self.MAX_KEYS:  # a flood of addresses: forget the oldest half
                    keep = sorted(self._counts.items(), key=lambda item: item[1][1])[self.MAX_KEYS // 2:]
                    self._counts = dict(keep)
            current = self._get(key, now) + 1
            self._counts[key] = (current, now + ttl)
            return current, self._get(previous_key, now)

    def peek(self, key: str, previous_key: str) -> tuple[int, int]:
        with self._lock:
            now = time.monotonic()
            return self._get(key, now), self._get(previous_key, now)

    def remove_one(self, key: str) -> None:
        with self._lock:
            count, expires = self._counts.get(key, (0, 0.0))
            if count > 0:
                self._counts[key] = (count - 1, expires)


_memory = MemoryCounters()
_shared: dict[str, CounterStore] = {}
_state = {"down_until": 0.0, "logged_at": float("-inf")}
_state_lock = threading.Lock()
# After a failure the store is tried again this much later, so a store that hangs does not add its
# timeout to every request.
RETRY_STORE_AFTER_SECONDS = 5.0


def shared_counters() -> CounterStore:
    url = settings.RATE_LIMIT_REDIS_URL
    store = _shared.get(url)
    if store is None:
        store = _shared[url] = RedisCounters(url) if url else CacheCounters()
    return store


def _store_failed(exc: BaseException) -> None:
    now = time.monotonic()
    with _state_lock:
        _state["down_until"] = now + RETRY_STORE_AFTER_SECONDS
        if now - _state["logged_at"] < settings.RATE_LIMIT_STORE_ERROR_LOG_SECONDS:
            return
        _state["logged_at"] = now
    log.error(
        "rate limit store unreachable (%s): limits are counted in this process's memory until it answers",
        exc, exc_info=exc,
    )


def _call(operation: str, *args: Any) -> Any:
    if time.monotonic() >= _state["down_until"]:
        try:
            return getattr(shared_counters(), operation)(*args)
        except Exception as exc:  # noqa: BLE001 - any store failure: count here, never let all through
            _store_failed(exc)
    return getattr(_memory, operation)(*args)


# --- the limit ----------------------------------------------------------------------------------------


class SlidingWindow:
    """At most `limit` events per `seconds` for one identity (a client address).

    A sliding-window counter: one atomic counter per identity and window, plus the previous window's
    count weighted by how much of it still overlaps the last `seconds`."""

    def __init__(self, name: str, limit: int, seconds: int) -> None:
        if limit < 1 or seconds < 1:
            raise ValueError(f"{name}: a limit needs at least one event per at least one second")
        self.name, self.limit, self.seconds = name, limit, seconds

    @classmethod
    def from_rate(cls, name: str, rate: str) -> "SlidingWindow":
        """`rate` in DRF's syntax: "20/min", "5/s", "100/hour", "1000/day"."""
        count, _, period = rate.partition("/")
        return cls(name, int(count), _PERIODS[period.strip()[:1]])

    def _keys(self, ident: str, now: float) -> tuple[str, str, float]:
        window = int(now // self.seconds)
        prefix = redis_key("ratelimit", self.name, ident)
        return f"{prefix}:{window}", f"{prefix}:{window - 1}", now - window * self.seconds

    def _wait(self, previous: int, current: int, elapsed: float) -> float:
        """Seconds until one more event fits, given the counts without it."""
        weight = 1 - elapsed / self.seconds
        if current + 1 <= self.limit and previous > 0:
            # previous × (1 − (elapsed + t) / seconds) + current + 1 ≤ limit, solved for t
            needed = previous * weight + current + 1 - self.limit
            wait = needed * self.seconds / previous
            if wait <= self.seconds - elapsed:
                return max(wait, 0.001)
        if current + 1 <= self.limit:
            return max(self.seconds - elapsed, 0.001)
        # this window's count becomes the previous one, and has to fade enough
        return self.seconds - elapsed + self.seconds * (1 - (self.limit - 1) / current)

    def _over(self, previous: int, current: int, elapsed: float) -> bool:
        return previous * (1 - elapsed / self.seconds) + current > self.limit

    def hit(self, ident: str) -> float | None:
        """Counts one event; None when it fits, else the seconds to wait (and it is not counted)."""
        key, previous_key, elapsed = self._keys(ident, time.time())
        current, previous = _call("add", key, previous_key, 2 * self.seconds + 1)
        if not self._over(previous, current, elapsed):
            return None
        _call("remove_one", key)  # a refused request does not use up the allowance
        return self._wait(previous, current - 1, elapsed)

    def blocked(self, ident: str) -> float | None:
        """None when one more event would fit (nothing counted), else the seconds to wait."""
        key, previous_key, elapsed = self._keys(ident, time.time())
        current, previous = _call("peek", key, previous_key)
        if not self._over(previous, current + 1, elapsed):
            return None
        return self._wait(previous, current, elapsed)

    def record(self, ident: str) -> None:
        """Counts one event whatever the count."""
        key, previous_key, _ = self._keys(ident, time.time())
        _call("add", key, previous_key, 2 * self.seconds + 1)
