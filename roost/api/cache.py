"""In-process caches for hot reads: who a token is, and whole GET responses of timelines.

Correctness rests on one counter, the *generation* (``roost.store.commits``): it goes up on
every database commit made by this process, so anything written here (a post, a follow, a
fan-out into home feeds, a revoked token) invalidates every entry at once.
Entries are stamped with the generation read *before* their queries ran, so a write racing a
read can never be cached as current. Who a token is has a narrower counter of its own, moved
only by commits that wrote a token or suspended or removed an account (``changes_auth``), so a
post does not make its author's next request look the token up again; the cached account row
is for who-is-calling checks, and handlers that show it (``verify_credentials``) read it afresh.
Writes by other processes (a second worker, `roost user
suspend`) are not seen: entries also expire after a few seconds, which bounds that staleness.

Under a read-mostly load (people scrolling) this serves repeated pages without a query; under
a write-heavy one it simply misses and the normal path runs.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Any

from roost.services.context import Context, Generation, commits

CALLER_TTL = 5.0  # s; also how long another process's revocation can go unseen
RESPONSE_TTL = 2.0  # s; how stale a page can be after another process's write
MAX_ENTRIES = 4096  # per cache, least recently used first out
MAX_BYTES = 16 * 1024 * 1024  # per cache: a home page of 20 posts is about 25 KB
MAX_BODY = 128 * 1024  # bytes; bigger responses are not kept


class Cache:
    """A bounded LRU of (generation, deadline, value), valid while the generation holds."""

    def __init__(self, generation: Generation, ttl: float) -> None:
        self.generation = generation
        self.ttl = ttl
        self.entries: OrderedDict[Any, tuple[int, float, Any, int]] = OrderedDict()
        self.size = 0  # bytes held, as the callers declared them

    def get(self, key: Any) -> Any:
        entry = self.entries.get(key)
        if entry is None:
            return None
        stamp, deadline, value, _size = entry
        if stamp != self.generation.value or deadline < time.monotonic():
            self._drop(key)
            return None
        self.entries.move_to_end(key)
        return value

    def put(self, key: Any, stamp: int, value: Any, size: int = 0) -> None:
        if stamp != self.generation.value:
            return  # something was written while this value was being read
        if key in self.entries:
            self._drop(key)
        self.entries[key] = (stamp, time.monotonic() + self.ttl, value, size)
        self.size += size
        while len(self.entries) > MAX_ENTRIES or self.size > MAX_BYTES:
            self._drop(next(iter(self.entries)))

    def _drop(self, key: Any) -> None:
        self.size -= self.entries.pop(key)[3]


class ApiCaches:
    def __init__(self, ctx: Context) -> None:
        watch = commits(ctx)
        self.generation = watch.every
        # Who a token is changes far less often than pages do: only when a commit touched a
        # token or an account's suspension. Posting does not make the next request look its
        # token up again.
        self.auth_generation = watch.auth
        self.callers = Cache(self.auth_generation, CALLER_TTL)
        self.responses = Cache(self.generation, RESPONSE_TTL)
        self.raw_responses = Cache(self.generation, RESPONSE_TTL)  # roost.api.fastpath's index
        self.inflight: dict[Any, asyncio.Future] = {}  # (key, generation) -> the first reader
        # Cacheable reads answered from a cache (either index) or by running the handler: the
        # hit rate a steady state really gets (bench/steady_state.py reads it from /metrics).
        self.hits = 0
        self.misses = 0


class CacheCollector:
    """The response cache's hits and misses as Prometheus counters, for the shield's /metrics
    (``roost.app`` registers it: the shield knows nothing of the API)."""

    def __init__(self, store: ApiCaches) -> None:
        self.store = store

    def collect(self):
        from prometheus_client.core import CounterMetricFamily

        yield CounterMetricFamily(
            "roost_api_response_cache_hits",
            "Cacheable API reads answered from the response cache.",
            value=self.store.hits,
        )
        yield CounterMetricFamily(
            "roost_api_response_cache_misses",
            "Cacheable API reads that ran their handler (nothing current was kept).",
            value=self.store.misses,
        )


def caches(ctx: Context) -> ApiCaches:
    found = ctx.extras.get("api_caches")
    if found is None:
        found = ctx.extras["api_caches"] = ApiCaches(ctx)
    return found
