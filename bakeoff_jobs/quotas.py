"""Per-model limits that hold across every worker process: concurrency slots with expiring leases
(a killed worker's slots come back) and requests/tokens per minute over a sliding window.
Redis when RATE_LIMIT_REDIS_URL is set, else a SQLite file that needs no server.

One module though just past 400 lines: the two stores answer one interface (slots, windows, work
queues) and are read side by side when a limit's behaviour is in question."""
from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Protocol

from django.conf import settings

from core.redis import redis_client, redis_key

DEFAULT_WINDOW_SECONDS = 60.0


class QuotaTimeout(TimeoutError):
    """No slot or no rate allowance came free within the caller's timeout."""


def _store_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sqlite3.OperationalError]
    try:
        import redis  # noqa: PLC0415

        errors += [redis.ConnectionError, redis.TimeoutError, redis.exceptions.BusyLoadingError]
    except ImportError:
        pass
    return tuple(errors)


# The shared store could not be reached (a Redis restart, a locked file): transient, never a result.
QUOTA_STORE_ERRORS = _store_errors()


class QuotaStore(Protocol):
    window_seconds: float

    def try_acquire(self, key: str, *, limit: int, lease_seconds: float) -> str | None:
        """A slot token when fewer than `limit` unexpired leases are held on `key`, else None."""

    def release(self, key: str, token: str) -> None:
        """Gives the slot back; releasing twice or an expired token is harmless."""

    def renew(self, key: str, token: str, *, lease_seconds: float) -> bool:
        """Extends a held lease from now; False when it had already expired (and was lost)."""

    def reserve_rate(self, key: str, *, rpm: int | None, tpm: int | None, tokens: int) -> float:
        """0.0 when one request of `tokens` fits the window now (and is recorded), else the seconds
        to wait before it would fit (nothing recorded)."""

    def in_use(self, key: str) -> int:
        """Unexpired leases held on `key`."""

    def work_reset(self, key: str, items: list[str]) -> None:
        """Replaces the work queue `key` with `items` (in order)."""

    def work_take(self, key: str, count: int) -> list[str]:
        """Takes up to `count` items off the front of the work queue `key`; each goes to one caller."""

    def work_return(self, key: str, items: list[str]) -> None:
        """Puts items taken but not done back on the work queue `key`."""


def _check_limits(limit: int | None = None, rpm: int | None = None, tpm: int | None = None) -> None:
    for name, value in (("limit", limit), ("rpm", rpm), ("tpm", tpm)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1 (or None for no limit), not {value}")


# Redis's own clock in milliseconds, so workers' clocks need not agree.
_LUA_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
# The slot set outlives its longest lease by a second, then cleans itself up.
_LUA_KEEP_SLOTS = """
if redis.call('PTTL', KEYS[1]) < lease + 1000 then
  redis.call('PEXPIRE', KEYS[1], lease + 1000)
end
"""

_ACQUIRE = _LUA_NOW + """
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
""" + _LUA_KEEP_SLOTS + """return 1
"""

_RENEW = _LUA_NOW + """
local lease = tonumber(ARGV[1])
local expires = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not expires or tonumber(expires) <= now then
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[2])
""" + _LUA_KEEP_SLOTS + """return 1
"""

# KEYS: events (zset, score = ms, member = "<id>:<tokens>"), token sum. ARGV: window ms, rpm, tpm
# (-1 = none), tokens, id. Returns 0 when recorded, else the milliseconds to wait.
_RESERVE = _LUA_NOW + """
local window = tonumber(ARGV[1])
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local tokens = tonumber(ARGV[4])
local cutoff = now - window
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)
if #old > 0 then
  local freed = 0
  for _, member in ipairs(old) do
    freed = freed + tonumber(string.match(member, ':(%d+)$'))
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
  redis.call('DECRBY', KEYS[2], freed)
end
local wait = 0
local count = redis.call('ZCARD', KEYS[1])
if rpm >= 0 and count >= rpm then
  local oldest = redis.call('ZRANGE', KEYS[1], count - rpm, count - rpm, 'WITHSCORES')
  wait = math.max(wait, tonumber(oldest[2]) + window - now)
end
if tpm >= 0 then
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  local excess = used + math.min(tokens, tpm) - tpm
  if excess > 0 then
    local events = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
    local freed = 0
    for i = 1, #events, 2 do
      freed = freed + tonumber(string.match(events[i], ':(%d+)$'))
      if freed >= excess then
        wait = math.max(wait, tonumber(events[i + 1]) + window - now)
        break
      end
    end
  end
end
if wait > 0 then
  return wait
end
redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. ARGV[4])
redis.call('INCRBY', KEYS[2], tokens)
redis.call('PEXPIRE', KEYS[1], window + 1000)
redis.call('PEXPIRE', KEYS[2], window + 1000)
return 0
"""


WORK_QUEUE_TTL_SECONDS = 2 * 24 * 3600  # a run's queue outlives any run; a resume refills it


class RedisQuotaStore:
    """Quotas in Redis; each check-and-record is one Lua script, so it is atomic for all workers,
    and time is Redis's own clock, so workers' clocks need not agree."""

    def __init__(self, url: str, *, window_seconds: float = DEFAULT_WINDOW_SECONDS,
                 prefix: str = "cloudroute:quota:") -> None:
        self.redis = redis_client(url)
        self.window_seconds = window_seconds
        self.prefix = prefix
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._renew = self.redis.register_script(_RENEW)
        self._reserve = self.redis.register_script(_RESERVE)

    def _key(self, key: str, kind: str) -> str:
        return f"{self.prefix}{{{key}}}:{kind}"  # hash tag: a key's parts share a cluster slot

    def try_acquire(self, key: str, *, limit: int, lease_seconds: float) -> str | None:
        _check_limits(limit=limit)
        token = uuid.uuid4().hex
        acquired = self._acquire(keys=[self._key(key, "slots")],
                                 args=[limit, max(1, int(lease_seconds * 1000)), token])
        return token if acquired else None

    def release(self, key: str, token: str) -> None:
        self.redis.zrem(self._key(key, "slots"), token)

    def renew(self, key: str, token: str, *, lease_seconds: float) -> bool:
        return bool(self._renew(keys=[self._key(key, "slots")], args=[max(1, int(lease_seconds * 1000)), token]))

    def reserve_rate(self, key: str, *, rpm: int | None, tpm: int | None, tokens: int) -> float:
        _check_limits(rpm=rpm, tpm=tpm)
        if rpm is None and tpm is None:
            return 0.0
        wait_ms = self._reserve(
            keys=[self._key(key, "events"), self._key(key, "tokens")],
            args=[int(self.window_seconds * 1000), -1 if rpm is None else rpm, -1 if tpm is None else tpm,
                  max(0, int(tokens)), uuid.uuid4().hex],
        )
        return int(wait_ms) / 1000.0

    def in_use(self, key: str) -> int:
        slots = self._key(key, "slots")
        seconds, micros = self.redis.time()
        return self.redis.zcount(slots, f"({seconds * 1000 + micros // 1000}", "+inf")

    def work_reset(self, key: str, items: list[str]) -> None:
        work = self._key(key, "work")
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(work)
            if items:
                pipe.rpush(work, *items)
                pipe.expire(work, WORK_QUEUE_TTL_SECONDS)
            pipe.execute()

    def work_take(self, key: str, count: int) -> list[str]:
        taken = self.redis.lpop(self._key(key, "work"), max(1, count)) or []
        return [item.decode() if isinstance(item, bytes) else item for item in taken]

    def work_return(self, key: str, items: list[str]) -> None:
        if items:
            work = self._key(key, "work")
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.rpush(work, *items)
                pipe.expire(work, WORK_QUEUE_TTL_SECONDS)
                pipe.execute()


class FileQuotaStore:
    """Quotas in a SQLite file for one machine with no server: every check-and-record is one
    BEGIN IMMEDIATE transaction, so processes and threads take turns."""

    def __init__(self, path: str | Path, *, window_seconds: float = DEFAULT_WINDOW_SECONDS) -> None:
        self.path = str(path)
        self.window_seconds = window_seconds
        self._local = threading.local()
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS quota_slot (key TEXT NOT NULL, token TEXT PRIMARY KEY,"
                       " expires_at REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS quota_slot_key ON quota_slot (key, expires_at)")
            db.execute("CREATE TABLE IF NOT EXISTS quota_event (key TEXT NOT NULL, at REAL NOT NULL,"
                       " tokens INTEGER NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS quota_event_key ON quota_event (key, at)")
            db.execute("CREATE TABLE IF NOT EXISTS quota_work (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                       " key TEXT NOT NULL, item TEXT NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS quota_work_key ON quota_work (key, seq)")

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread, and a fresh one in a forked child.
        connection = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():
            connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def try_acquire(self, key: str, *, limit: int, lease_seconds: float) -> str | None:
        _check_limits(limit=limit)
        with self._transaction() as db:
            now = time.time()
            db.execute("DELETE FROM quota_slot WHERE key = ? AND expires_at <= ?", (key, now))
            (held,) = db.execute("SELECT COUNT(*) FROM quota_slot WHERE key = ?", (key,)).fetchone()
            if held >= limit:
                return None
            token = uuid.uuid4().hex
            db.execute("INSERT INTO quota_slot (key, token, expires_at) VALUES (?, ?, ?)",
                       (key, token, now + lease_seconds))
            return token

    def release(self, key: str, token: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM quota_slot WHERE key = ? AND token = ?", (key, token))

    def renew(self, key: str, token: str, *, lease_seconds: float) -> bool:
        with self._transaction() as db:
            now = time.time()
            updated = db.execute(
                "UPDATE quota_slot SET expires_at = ? WHERE key = ? AND token = ? AND expires_at > ?",
                (now + lease_seconds, key, token, now),
            ).rowcount
            return updated == 1

    def reserve_rate(self, key: str, *, rpm: int | None, tpm: int | None, tokens: int) -> float:
        _check_limits(rpm=rpm, tpm=tpm)
        if rpm is None and tpm is None:
            return 0.0
        tokens = max(0, int(tokens))
        with self._transaction() as db:
            now = time.time()
            window = self.window_seconds
            db.execute("DELETE FROM quota_event WHERE key = ? AND at <= ?", (key, now - window))
            count, used = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(tokens), 0) FROM quota_event WHERE key = ?", (key,)
            ).fetchone()
            wait = 0.0
            if rpm is not None and count >= rpm:
                (oldest,) = db.execute(
                    "SELECT at FROM quota_event WHERE key = ? ORDER BY at LIMIT 1 OFFSET ?", (key, count - rpm)
                ).fetchone()
                wait = max(wait, oldest + window - now)
            if tpm is not None and used + min(tokens, tpm) > tpm:
                excess, freed = used + min(tokens, tpm) - tpm, 0
                for at, event_tokens in db.execute(
                    "SELECT at, tokens FROM quota_event WHERE key = ? ORDER BY at", (key,)
                ):
                    freed += event_tokens
                    if freed >= excess:
                        wait = max(wait, at + window - now)
                        break
            if wait > 0:
                return max(wait, 0.001)
            db.execute("INSERT INTO quota_event (key, at, tokens) VALUES (?, ?, ?)", (key, now, tokens))
            return 0.0

    def work_reset(self, key: str, items: list[str]) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM quota_work WHERE key = ?", (key,))
            db.executemany("INSERT INTO quota_work (key, item) VALUES (?, ?)", [(key, i) for i in items])

    def work_take(self, key: str, count: int) -> list[str]:
        with self._transaction() as db:
            rows = db.execute("SELECT seq, item FROM quota_work WHERE key = ? ORDER BY seq LIMIT ?",
                              (key, max(1, count))).fetchall()
            db.executemany("DELETE FROM quota_work WHERE seq = ?", [(seq,) for seq, _ in rows])
            return [item for _, item in rows]

    def work_return(self, key: str, items: list[str]) -> None:
        with self._transaction() as db:
            db.executemany("INSERT INTO quota_work (key, item) VALUES (?, ?)", [(key, i) for i in items])

    def in_use(self, key: str) -> int:
        (held,) = self._connection().execute(
            "SELECT COUNT(*) FROM quota_slot WHERE key = ? AND expires_at > ?", (key, time.time())
        ).fetchone()
        return held


def work_queue_key(run_model_id: int) -> str:
    """The queue of a run-model's cases still to call, shared by every lane of the run."""
    return f"bakeoff-work:{run_model_id}"


def lane_set_key(run_model_id: int) -> str:
    """Leases of the lanes serving a run-model now: each lane's share is the concurrency over their count."""
    return f"bakeoff-lanes:{run_model_id}"


_stores: dict[tuple[int, str, str], QuotaStore] = {}
_stores_lock = threading.Lock()


def get_quota_store() -> QuotaStore:
    """The process's store: Redis at settings.RATE_LIMIT_REDIS_URL (keys under REDIS_KEY_PREFIX), else
    the file at settings.RATE_LIMIT_FILE."""
    url = getattr(settings, "RATE_LIMIT_REDIS_URL", "")
    location = url or str(settings.RATE_LIMIT_FILE)
    prefix = redis_key("quota", "")
    key = (os.getpid(), location, prefix)
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = RedisQuotaStore(url, prefix=prefix) if url else FileQuotaStore(location)
        return store


@contextmanager
def model_slot(store: QuotaStore, key: str, *, limit: int, lease_seconds: float, rpm: int | None = None,
               tpm: int | None = None, tokens: int = 0, timeout: float | None = None,
               poll: float = 0.01) -> Iterator[str]:
    """Waits until `key` has a free concurrency slot AND its rate allows one more request of
    `tokens`, holds the slot for the block, and gives it back on exit. Yields the slot token
    (for store.renew on calls that may outlive lease_seconds). Raises QuotaTimeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        token = store.try_acquire(key, limit=limit, lease_seconds=lease_seconds)
        if token is not None:
            wait = store.reserve_rate(key, rpm=rpm, tpm=tpm, tokens=tokens)
            if wait == 0.0:
                break
            store.release(key, token)  # don't sit on a slot others could use while the rate refills
        else:
            wait = poll
        wait *= random.uniform(1.0, 1.5)  # spread the herd so waiters don't wake in lockstep
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise QuotaTimeout(f"no slot for {key!r} within {timeout} s")
            wait = min(wait, remaining)
        time.sleep(wait)
    try:
        yield token
    finally:
        try:
            store.release(key, token)
        except QUOTA_STORE_ERRORS:
            pass  # the store is away: the lease expires on its own, and the call's answer stands
