"""Brownout: under overload, serve public pages from a short-lived cache and refuse luxuries.

Only anonymous GETs whose response says it may be shared are cached (status 200, no Set-Cookie,
no ``private``/``no-store``/``no-cache``), for ``ttl`` seconds fresh and ``stale`` seconds more
while one request at a time refreshes the entry (stale-while-revalidate, RFC 5861 semantics: the
others get the stale copy instead of queueing behind the refresh). Bounded to ``capacity`` entries
of at most ``MAX_BODY`` bytes; the oldest entry is dropped first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from starlette.types import Scope, Send

MAX_BODY = 256 * 1024
# Marks a 503 as a feature shed on purpose under load, so that monitors (roost/status/probes.py)
# report the feature degraded rather than down.
BROWNOUT_HEADER = (b"x-roost-brownout", b"1")
EXPENSIVE_MESSAGE = (
    "Roost is under heavy load, so search, trends, old pages and picture uploads are paused for "
    "a few minutes. "
    "Your home timeline, posting and notifications still work."
)


class Entry(NamedTuple):
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    stored: float


class BrownoutCache:
    def __init__(self, ttl: float, stale: float, capacity: int = 2048) -> None:
        self.ttl, self.stale, self.capacity = ttl, stale, capacity
        self._entries: dict[bytes, Entry] = {}
        self._refreshing: set[bytes] = set()

    def lookup(self, key: bytes, now: float) -> tuple[Entry | None, bool]:
        """(entry to serve, whether the caller should refresh it instead)."""
        entry = self._entries.get(key)
        if entry is None:
            if key in self._refreshing:
                return None, False
            self._refreshing.add(key)
            return None, True
        age = now - entry.stored
        if age <= self.ttl:
            return entry, False
        if age <= self.ttl + self.stale:
            if key in self._refreshing:
                return entry, False
            self._refreshing.add(key)
            return entry, True
        del self._entries[key]
        self._refreshing.add(key)
        return None, True

    def fallback(self, key: bytes, now: float) -> Entry | None:
        """Any copy still within its stale window: better than a 503 for a shed anonymous GET."""
        entry = self._entries.get(key)
        if entry is not None and now - entry.stored <= self.ttl + self.stale:
            return entry
        return None

    def done(self, key: bytes) -> None:
        self._refreshing.discard(key)

    def store(self, key: bytes, entry: Entry) -> None:
        self._refreshing.discard(key)
        if len(entry.body) > MAX_BODY or not cacheable(entry.status, entry.headers):
            return
        if key not in self._entries and len(self._entries) >= self.capacity:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = entry

    def __len__(self) -> int:
        return len(self._entries)


def cacheable(status: int, headers: list[tuple[bytes, bytes]]) -> bool:
    if status != 200:
        return False
    for name, value in headers:
        if name == b"set-cookie":
            return False
        if name == b"cache-control":
            lowered = value.lower()
            if b"private" in lowered or b"no-store" in lowered or b"no-cache" in lowered:
                return False
        if name == b"vary" and b"cookie" in value.lower():
            continue  # we only cache anonymous requests, so Vary: Cookie is satisfied
    return True


def cache_key(scope: Scope) -> bytes:
    return scope["path"].encode() + b"?" + (scope.get("query_string") or b"")


async def serve_cached(
    cache: BrownoutCache,
    metrics: Any,
    scope: Scope,
    send: Send,
    now: float,
    forward: Callable[[Callable[[dict], None] | None], Awaitable[None]],
) -> None:
    """Answer an anonymous GET from the cache, or forward it (capturing it when it refreshes)."""
    key = cache_key(scope)
    entry, refresh = cache.lookup(key, now)
    if entry is not None and not refresh:
        metrics.brownout.labels("cache_hit").inc()
        await replay(send, entry)
        return
    if not refresh:
        await forward(None)  # someone else is fetching it first; no stale copy to give
        return
    metrics.brownout.labels("cache_refresh").inc()
    parts: dict[str, Any] = {"body": b""}

    def capture(message: dict) -> None:
        if message["type"] == "http.response.start":
            parts["status"], parts["headers"] = message["status"], list(message.get("headers", ()))
        elif message["type"] == "http.response.body":
            parts["body"] += message.get("body", b"")
            if not message.get("more_body") and "status" in parts:
                cache.store(key, Entry(parts["status"], parts["headers"], parts["body"], now))

    try:
        await forward(capture)
    finally:
        cache.done(key)


async def replay(send: Send, entry: Entry) -> None:
    headers = [*entry.headers, (b"x-roost-cache", b"brownout")]
    await send({"type": "http.response.start", "status": entry.status, "headers": headers})
    await send({"type": "http.response.body", "body": entry.body})
