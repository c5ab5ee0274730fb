"""Limits, reputation, blocks, revocations and used challenges shared across processes via Redis.

One Lua script checks and spends every bucket of a request in one round trip, atomically, with
Redis's own clock (so processes with skewed clocks agree). Blocks, suspicious addresses, pass
revocations and the under-attack mode are published with expiry and pulled by every process once
a second (one pipelined round trip). Reputation scores are summed across processes the same
second: each process adds its new bad points to a decaying score per key (one Lua call) and takes
the total back (``share_scores``).

Failure policy (the Warehouse way): Redis is an optimisation, not a dependency. On any Redis
error or a 100 ms timeout, the shield falls back to its local tables, logs at most once per
10 seconds, counts ``roost_shield_redis_failures_total``, and retries Redis after 5 seconds.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from roost.shield.gate import Gate
from roost.shield.gcra import Decision
from roost.shield.limiter import Check, Verdict
from roost.shield.reputation import HALF_LIFE, ReputationTable

log = logging.getLogger("roost.shield")
RETRY_AFTER_FAILURE = 5.0
LOG_EVERY = 10.0

GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local new = {}
local best = nil
for i = 1, #KEYS do
  local rate = tonumber(ARGV[3 * i - 2])
  local burst = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local interval = 1 / rate
  local tolerance = burst * interval
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  local base = math.max(tat, now)
  local new_tat = base + cost * interval
  local allow_at = new_tat - tolerance
  if allow_at > now then
    return {0, i, math.floor(burst / cost), 0, tostring(base - now), tostring(allow_at - now)}
  end
  new[i] = new_tat
  local left = (tolerance - (new_tat - now)) / (interval * cost)
  local remaining = math.max(0, math.floor(left + 1e-9))
  if i > 1 and (best == nil or remaining < best[2]) then
    best = {math.floor(burst / cost), remaining, new_tat - now}
  end
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], tostring(new[i]), 'PX', math.ceil((new[i] - now) * 1000) + 1000)
end
if best == nil then best = {0, 0, 0} end
return {1, 0, best[1], best[2], tostring(best[3]), '0'}
"""


# Add each key's new points to its decaying cluster-wide score; return the scores.
# KEYS: score keys; ARGV[1]: half-life (s), ARGV[2]: expiry (s), then one delta per key.
SCORE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local half, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS do
  local points, stamp = 0, now
  local held = redis.call('GET', KEYS[i])
  if held then
    local sep = string.find(held, ' ')
    points = tonumber(string.sub(held, 1, sep - 1))
    stamp = tonumber(string.sub(held, sep + 1))
  end
  points = points * math.pow(0.5, math.max(0, now - stamp) / half) + tonumber(ARGV[i + 2])
  redis.call('SET', KEYS[i], string.format('%.4f %.6f', points, now), 'EX', ttl)
  out[i] = string.format('%.4f', points)
end
return out
"""
SCORE_TTL = 600  # s: ten half-lives, after which a score is nothing anyway


class SharedState:
    def __init__(self, url: str, prefix: str, metrics: Any) -> None:
        self.url, self.prefix, self.metrics = url, prefix, metrics
        self.enabled = bool(url)  # checked per request: a plain attribute
        self._client: Any = None
        self._script: Any = None
        self._scores: Any = None
        self._down_until = 0.0
        self._last_log = 0.0
        self._outbox: list[tuple[str, str, float]] = []
        self.failures = 0
        self.mode: str | None = None  # the cluster-wide under-attack mode, when one is set
        self.suspects: list[str] = []  # addresses any process found suspicious, from the last sync

    def _ready(self) -> bool:
        if not self.url or time.monotonic() < self._down_until:
            return False
        if self._client is None:
            import redis.asyncio as aioredis

            self._client = aioredis.from_url(
                self.url, socket_timeout=0.1, socket_connect_timeout=0.1, decode_responses=True
            )
            self._script = self._client.register_script(GCRA_LUA)
            self._scores = self._client.register_script(SCORE_LUA)
        return True

    def _failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self.failures += 1
        self.metrics.redis_failures.inc()
        self._down_until = now + RETRY_AFTER_FAILURE
        if now - self._last_log >= LOG_EVERY:
            self._last_log = now
            log.warning("redis unavailable (%s); shield falls back to local limits", exc)

    async def check(self, checks: list[Check]) -> Verdict | None:
        """The shared verdict, or None when the local tables must decide."""
        if not self._ready():
            return None
        keys = [f"{self.prefix}{kind}:{key}" for kind, key, _, _ in checks]
        args: list[float] = []
        for _, _, limit, cost in checks:
            args += [limit.rate, limit.burst, cost]
        try:
            ok, index, limit, remaining, reset, retry = await self._script(keys=keys, args=args)
        except Exception as exc:  # any Redis or network error: fail open to local limits
            self._failed(exc)
            return None
        decision = Decision(bool(ok), int(limit), int(remaining), float(reset), float(retry))
        return Verdict(bool(ok), decision, "" if ok else checks[int(index) - 1][0])

    def publish_block(self, key: str, seconds: float) -> None:
        if self.url:
            self._outbox.append(("blocks", key, seconds))

    def publish_suspect(self, ip: str, seconds: float) -> None:
        if self.url:
            self._outbox.append(("suspects", ip, seconds))

    def publish_revocation(self, pass_id: str, seconds: float) -> None:
        if self.url:
            self._outbox.append(("revoked", pass_id, seconds))

    async def first_use(self, nonce: str) -> bool:
        if not self._ready():
            return True  # the local ReplayGuard already said yes
        try:
            return bool(await self._client.set(f"{self.prefix}nonce:{nonce}", "1", nx=True, ex=300))
        except Exception as exc:  # fail open: the local guard stands alone
            self._failed(exc)
            return True

    async def sync(self, gate: Gate, revoked: set[str]) -> None:
        """Push this process's new blocks and revocations; pull everyone's."""
        if not self._ready():
            return
        outbox, self._outbox = self._outbox[:1000], []
        try:
            wall = time.time()
            pipe = self._client.pipeline(transaction=False)
            for kind, key, seconds in outbox:
                pipe.zadd(f"{self.prefix}{kind}", {key: wall + seconds})
            for kind in ("blocks", "revoked", "suspects"):
                pipe.zremrangebyscore(f"{self.prefix}{kind}", "-inf", wall)
                pipe.zrangebyscore(f"{self.prefix}{kind}", wall, "+inf", withscores=True)
            pipe.get(f"{self.prefix}mode")
            results = await pipe.execute()
        except Exception as exc:  # fail open: local blocks and revocations still apply
            self._failed(exc)
            return
        now = time.monotonic()
        for key, until in results[-6]:
            gate.block(key, until - wall, "shared", now)
        revoked.update(key for key, _ in results[-4])
        self.suspects = [key for key, _ in results[-2]][:10_000]
        self.mode = results[-1]

    async def share_scores(self, tables: dict[str, ReputationTable], now: float) -> None:
        """Add this process's new bad points to the cluster-wide scores; take the totals back."""
        if not self._ready():
            for table in tables.values():
                table.take_pending()  # Redis is down: the points count here alone
            return
        keys, args, owners = [], [HALF_LIFE, SCORE_TTL], []
        for kind, table in tables.items():
            for key, points in table.take_pending().items():
                keys.append(f"{self.prefix}score:{kind}:{key}")
                args.append(round(points, 4))
                owners.append((table, key))
        if not keys:
            return
        try:
            totals = await self._scores(keys=keys, args=args)
        except Exception as exc:  # fail open: each process keeps judging on its own points
            self._failed(exc)
            return
        for (table, key), total in zip(owners, totals, strict=True):
            table.merge(key, float(total), now)

    def status(self) -> dict[str, Any]:
        return {
            "configured": bool(self.url),
            "healthy": bool(self.url) and time.monotonic() >= self._down_until,
            "failures": self.failures,
        }

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
