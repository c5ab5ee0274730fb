"""The database: one async engine, reads from a pool, writes through one writer on SQLite.

Durability policy: an acknowledged write is committed before the response is sent. On SQLite that
means WAL with ``synchronous=FULL`` (WAL + NORMAL may lose the last commits on power loss; FULL
fsyncs the WAL on every commit). SQLite allows one writer at a time, so writes queue on an
``asyncio.Lock`` in-process instead of spinning on ``SQLITE_BUSY`` (the Datasette pattern).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from roost.store import inline_sqlite

AfterCommit = Callable[[], Awaitable[None] | None]


def async_url(url: str) -> str:
    """Our public URLs (sqlite:///x.db, postgresql://...) with the async driver named."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, inline: bool = False) -> AsyncEngine:
    """An engine for ``url``; on SQLite, ``inline`` runs queries on the loop thread (reads)."""
    full = async_url(url)
    if full.startswith("sqlite"):
        extra = {"module": inline_sqlite.dbapi()} if inline else {}
        engine = create_async_engine(full, pool_size=8, max_overflow=24, **extra)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(full, pool_size=10, max_overflow=20, pool_pre_ping=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "foreign_keys=ON",
        "busy_timeout=10000",
        "cache_size=-32000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


@dataclass
class Tx:
    """A write transaction and the work to do once it is committed (events, queueing)."""

    conn: AsyncConnection
    after: list[AfterCommit] = field(default_factory=list)

    def after_commit(self, action: AfterCommit) -> None:
        self.after.append(action)


class Database:
    """Hands out read connections and write transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url, inline=True)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # SQLite writes wait for fsync: they go through aiosqlite's thread, one at a time.
        self.write_engine = make_engine(url) if self.is_sqlite else self.engine
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        """One transaction; committed on clean exit, then its after-commit actions run."""
        async with self._writer(), self.engine.begin() as conn:
            tx = Tx(conn)
            yield tx
        for action in tx.after:
            result = action()
            if result is not None:
                await result

    def _writer(self) -> asyncio.Lock | contextlib.nullcontext:
        return self._write_lock or contextlib.nullcontext()

    async def close(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()
