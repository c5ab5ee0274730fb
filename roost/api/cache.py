"""In-process caches for hot reads: who a token is, and whole GET responses of timelines.

Correctness rests on one counter, the *generation*: it goes up on every database commit made by
this process (SQLAlchemy's ``commit`` event on the site's engines, and again when that connection
returns to the pool, once the commit has landed), so anything written here
(a post, a follow, a fan-out into home feeds, a revoked token) invalidates every entry at once.
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

from sqlalchemy import event

from roost.services.context import Context
from roost.store.tables import accounts, tokens

CALLER_TTL = 5.0  # s; also how long another process's revocation can go unseen
RESPONSE_TTL = 2.0  # s; how stale a page can be after another process's write
MAX_ENTRIES = 4096  # per cache, least recently used first out
MAX_BYTES = 16 * 1024 * 1024  # per cache: a home page of 20 posts is about 25 KB
MAX_BODY = 128 * 1024  # bytes; bigger responses are not kept


class Generation:
    """Counts this process's commits."""

    def __init__(self) -> None:
        self.value = 0

    def bump(self, *_args: Any) -> None:
        self.value += 1


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
        self.generation = Generation()
        # Who a token is changes far less often than pages do: only when a commit touched a
        # token or an account's suspension (``changes_auth``). Posting does not make the next
        # request look its token up again.
        self.auth_generation = Generation()
        self.callers = Cache(self.auth_generation, CALLER_TTL)
        self.responses = Cache(self.generation, RESPONSE_TTL)
        self.raw_responses = Cache(self.generation, RESPONSE_TTL)  # roost.api.fastpath's index
        self.inflight: dict[Any, asyncio.Future] = {}  # (key, generation) -> the first reader
        engines = {id(e): e for e in (ctx.db.engine, getattr(ctx.db, "write_engine", None)) if e}
        for engine in engines.values():
            event.listen(engine.sync_engine, "before_cursor_execute", self._executing)
            event.listen(engine.sync_engine, "commit", self._committing)
            event.listen(engine.sync_engine, "checkin", self._checked_in)

    def _executing(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if changes_auth(statement):  # rolled back or not: forgetting a token once is harmless
            conn.info["roost_auth"] = True

    def _committing(self, conn: Any) -> None:
        # SQLAlchemy's commit event fires *before* the commit lands: a read running meanwhile
        # still sees the old rows, so the connection is marked and the counter bumped again
        # when it goes back to the pool, which is after the commit.
        conn.info["roost_committed"] = True
        self.generation.bump()
        if conn.info.get("roost_auth"):
            self.auth_generation.bump()

    def _checked_in(self, _dbapi_connection: Any, record: Any) -> None:
        if record.info.pop("roost_committed", False):
            self.generation.bump()
            if record.info.pop("roost_auth", False):
                self.auth_generation.bump()


_AUTH_WRITES = (
    f"UPDATE {tokens.name} ",
    f"DELETE FROM {tokens.name}",
    f"DELETE FROM {accounts.name}",
)
_ACCOUNT_UPDATE = f"UPDATE {accounts.name} "


def changes_auth(statement: str) -> bool:
    """Whether SQL may change what a token grants: tokens written, accounts suspended or gone."""
    if statement.startswith(_AUTH_WRITES):
        return True
    return statement.startswith(_ACCOUNT_UPDATE) and "suspended_at" in statement


def caches(ctx: Context) -> ApiCaches:
    found = ctx.extras.get("api_caches")
    if found is None:
        found = ctx.extras["api_caches"] = ApiCaches(ctx)
    return found
