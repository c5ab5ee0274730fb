"""The database: one async engine, reads from a pool, writes through one writer on SQLite.

Durability policy: an acknowledged write is committed before the response is sent. On SQLite that
means WAL with ``synchronous=FULL`` (WAL + NORMAL may lose the last commits on power loss; FULL
fsyncs the WAL on every commit).

SQLite allows one writer at a time, and each commit costs an fsync (0.3 to 7 ms on the disks seen
here). So writes use *group commit*: writers take turns on one connection (an asyncio lock, the
Datasette pattern), each inside its own SAVEPOINT, and a commit task that queues behind them
commits them all with one fsync. No writer's ``write()`` returns before that commit, so nothing
is acknowledged before it is durable, and a failing writer rolls back only its own savepoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from roost.domain.errors import Conflict
from roost.store import inline_sqlite
from roost.store.private import create_private

log = logging.getLogger(__name__)
AfterCommit = Callable[[], Awaitable[None] | None]
CHECKPOINT_EVERY = 1.0  # seconds between passive WAL checkpoints
BACKGROUND_YIELD = 0.005  # longest a background write waits for client writes to go first
READ_YIELD = 0.020  # longest a client's read waits for client writes in flight to finish


def async_url(url: str) -> str:
    """Our public URLs (sqlite:///x.db, postgresql://...) with the async driver named."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, begin: str = "BEGIN") -> AsyncEngine:
    """An engine for ``url``. On SQLite, queries run inline on the loop (``inline_sqlite``) and
    transactions start with ``begin`` (``BEGIN IMMEDIATE`` for the writer)."""
    full = async_url(url)
    if not full.startswith("sqlite"):
        return create_async_engine(full, pool_size=10, max_overflow=20)
    database = make_url(full).database
    if database and database != ":memory:" and not database.startswith("file:"):
        create_private(Path(database))  # client secrets and password hashes: owner only
    # Reads hold a connection only for a request; keep them open (opening one reads the
    # schema and sets pragmas, which under 20 concurrent readers cost more than the reads).
    engine = create_async_engine(full, pool_size=64, max_overflow=64, module=inline_sqlite.dbapi())
    # pysqlite's own transaction handling breaks SAVEPOINT; take it over (SQLAlchemy's recipe).
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(engine.sync_engine, "begin", lambda conn: conn.exec_driver_sql(begin))
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "wal_autocheckpoint=0",  # checkpoints run off the write path (Database._checkpoint)
        "foreign_keys=ON",
        "busy_timeout=10000",
        "cache_size=-32000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


class ReadConnection(AsyncConnection):
    """A read connection that goes to SQLAlchemy's pool on first use, not before.

    Most reads of the hot paths run only hot statements (``roost.store.hot``), which on SQLite
    go to ``raw``, a sqlite3 connection of the process's own in autocommit (each statement sees
    the latest commit; none holds a snapshot open between requests). Checking a pooled
    connection out and back in for them cost two greenlet hops and the pool's reset, about a
    third of an uncached home page's database time. Anything else a service runs checks one
    out here, as before.
    """

    __slots__ = ("raw",)

    def __init__(self, engine: AsyncEngine, raw: sqlite3.Connection | None) -> None:
        super().__init__(engine)
        self.raw = raw

    @property  # type: ignore[misc]  # read-only here: a read never changes its dialect
    def dialect(self) -> Dialect:
        return self.sync_engine.dialect

    async def _started(self) -> AsyncConnection:
        if self.sync_connection is None:
            await self.start()
        return self

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        await self._started()
        return await super().execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        await self._started()
        return await super().scalar(*args, **kwargs)

    async def scalars(self, *args: Any, **kwargs: Any) -> Any:
        await self._started()
        return await super().scalars(*args, **kwargs)

    async def exec_driver_sql(self, *args: Any, **kwargs: Any) -> Any:
        await self._started()
        return await super().exec_driver_sql(*args, **kwargs)

    async def run_sync(self, *args: Any, **kwargs: Any) -> Any:
        await self._started()
        return await super().run_sync(*args, **kwargs)


CONFLICT = "Validation failed: the record conflicts with another"


@dataclass
class Tx:
    """A write transaction and the work to do once it is committed (events, queueing)."""

    conn: AsyncConnection
    after: list[AfterCommit] = field(default_factory=list)

    def after_commit(self, action: AfterCommit) -> None:
        self.after.append(action)


@dataclass
class _Group:
    """Writers sharing one SQLite transaction, committed together."""

    conn: AsyncConnection
    waiters: list[asyncio.Future] = field(default_factory=list)  # one per writer that waits
    committer: asyncio.Task | None = None
    size: int = 0

    def settle(self, error: BaseException | None = None) -> None:
        """Tell every writer still waiting how the commit went. Each waits on a future of its
        own: one writer cancelled cancels only itself, and waking it is one step of the loop,
        where a shared future behind ``asyncio.shield`` took two (each a full turn of the
        loop's ready queue under load)."""
        for waiter in self.waiters:
            if waiter.done():
                continue
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)


class Database:
    """Hands out read connections and write transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.write_engine = make_engine(url, "BEGIN IMMEDIATE") if self.is_sqlite else None
        self._write_lock = asyncio.Lock()
        self._foreground_waiting = 0
        self._foreground_idle = asyncio.Event()
        self._foreground_idle.set()
        self._writes_in_flight = 0  # client writes begun and not yet acknowledged
        self._no_writes = asyncio.Event()
        self._no_writes.set()
        self._group: _Group | None = None
        self._checkpointer: threading.Thread | None = None
        self._checkpoint_stop = threading.Event()
        self.groups_committed = 0
        self.writes_committed = 0
        database = make_url(url).database if self.is_sqlite else None
        on_disk = database and database != ":memory:" and not database.startswith("file:")
        self._hot_path = database if on_disk else None
        self._hot_conns: dict[int, sqlite3.Connection] = {}

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read connection, taken from the pool only if something other than a hot
        statement asks for it (``ReadConnection``)."""
        conn = ReadConnection(self.engine, self._hot_sqlite())
        try:
            yield conn
        finally:
            if conn.sync_connection is not None:
                await conn.close()

    def _hot_sqlite(self) -> sqlite3.Connection | None:
        """This thread's own sqlite3 connection for hot statements (None on PostgreSQL, or
        for a database a second connection would not see: in memory)."""
        if self._hot_path is None:
            return None
        thread = threading.get_ident()
        conn = self._hot_conns.get(thread)
        if conn is None:
            conn = sqlite3.connect(self._hot_path, isolation_level=None)
            _sqlite_pragmas(conn, None)
            conn.execute("PRAGMA query_only=ON")
            self._hot_conns[thread] = conn
        return conn

    @asynccontextmanager
    async def write(self, background: bool = False, durable: bool = True) -> AsyncIterator[Tx]:
        """One transaction, durable when this exits (see ``_write``). A row that breaks a
        unique or foreign key (two requests racing to create the same thing) is the domain's
        ``Conflict``, so every face answers it alike (422), never a 500."""
        if not background:
            self._writes_in_flight += 1
            self._no_writes.clear()
        try:
            async with self._write(background, durable) as tx:
                yield tx
        except IntegrityError as exc:
            raise Conflict(CONFLICT) from exc
        finally:
            if not background:
                self._writes_in_flight -= 1
                if self._writes_in_flight == 0:
                    self._no_writes.set()

    async def behind_writes(self) -> None:
        """A client's read about to start lets client writes in flight finish first (for at
        most ``READ_YIELD``).

        Why: a read runs its whole page without yielding, and a write crosses the event loop's
        ready queue at each step (the writer's lock, the group commit, the writer woken after
        it). With 32 readers each step waited behind the whole queue of reads, 15 ms a step
        under load, and a post's acknowledgement took 50-270 ms at p50
        (bench/steady_state.py). Reads are many and a post is waited on: posts go first, as
        the shield ranks them first."""
        if self._writes_in_flight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._no_writes.wait(), READ_YIELD)

    @asynccontextmanager
    async def _write(self, background: bool, durable: bool) -> AsyncIterator[Tx]:
        """One transaction, durable when this exits; then its after-commit actions run.

        ``background`` work (fan-out, feed upkeep) lets writes that a client is waiting for go
        first on SQLite's single writer, for up to ``BACKGROUND_YIELD`` seconds.
        ``durable=False`` returns before the commit, for repeatable work whose completion is
        recorded by a later durable write on the same connection (fan-out's feed rows, then
        the post's ``done``); SQLite commits them in order, so ``done`` is never ahead.
        """
        if self.write_engine is None:  # PostgreSQL: concurrent writers, its own group commit
            async with self.engine.begin() as conn:
                tx = Tx(conn)
                yield tx
        else:
            if background:
                await self._yield_to_foreground()
            else:
                self._foreground_waiting += 1
            try:
                await self._write_lock.acquire()
            finally:
                if not background:
                    self._foreground_waiting -= 1
                    if self._foreground_waiting == 0:
                        self._foreground_idle.set()
            waiter: asyncio.Future | None = None
            try:
                group = await self._open_group()
                savepoint = await group.conn.begin_nested()
                tx = Tx(group.conn)
                try:
                    yield tx
                except BaseException:
                    await savepoint.rollback()
                    self._schedule_commit(group)
                    raise
                await savepoint.commit()
                group.size += 1
                if durable or tx.after:
                    waiter = asyncio.get_running_loop().create_future()
                    group.waiters.append(waiter)
                self._schedule_commit(group)
            finally:
                self._write_lock.release()
            if waiter is not None:
                await waiter
        for action in tx.after:
            result = action()
            if result is not None:
                await result

    async def _yield_to_foreground(self) -> None:
        if self._foreground_waiting:
            self._foreground_idle.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._foreground_idle.wait(), BACKGROUND_YIELD)

    async def _open_group(self) -> _Group:
        if self._checkpointer is None:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_forever, name="roost-wal-checkpoint", daemon=True
            )
            self._checkpointer.start()
        if self._group is None:
            assert self.write_engine is not None  # SQLite's writer, made in __init__
            conn = await self.write_engine.connect()
            await conn.begin()
            self._group = _Group(conn)
        return self._group

    def _schedule_commit(self, group: _Group) -> None:
        """Queue the group's commit behind the writers already waiting for the lock."""
        if group.committer is None:
            group.committer = asyncio.create_task(self._commit(group))

    async def _commit(self, group: _Group) -> None:
        async with self._write_lock:
            self._group = None
            try:
                await group.conn.commit()
            except asyncio.CancelledError:
                # Shutting down mid-commit: none of these writes was acknowledged, and a
                # resumable one (fan-out) is done again at the next start.
                log.info("group commit of %d writes cancelled (shutting down)", group.size)
                for waiter in group.waiters:
                    waiter.cancel()
                raise
            except BaseException as error:
                log.exception("group commit of %d writes failed", group.size)
                with contextlib.suppress(Exception):
                    await group.conn.rollback()
                group.settle(error)
            else:
                group.settle()
                self.groups_committed += 1
                self.writes_committed += group.size
            finally:
                await group.conn.close()

    def _checkpoint_forever(self) -> None:
        """Copy the WAL back into the database now and then, on its own thread, never blocking.

        SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL pages, and a
        writer then waits for it (bench/run.py saw post acknowledgements spike to 300+ ms during
        10,000-follower fan-outs). A PASSIVE checkpoint copies what it can without waiting.
        The thread owns its connection from open to close: closing it from the loop while a
        checkpoint runs would free it under sqlite3's feet.
        """
        conn = sqlite3.connect(make_url(self.url).database or ":memory:")
        try:
            while not self._checkpoint_stop.wait(CHECKPOINT_EVERY):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:  # busy or locked: housekeeping, try again next time
                    log.debug("passive checkpoint skipped", exc_info=True)
        finally:
            conn.close()

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpoint_stop.set()
            await asyncio.to_thread(self._checkpointer.join)
        group = self._group
        if group is not None and group.committer is not None:
            await group.committer
        for conn in self._hot_conns.values():
            with contextlib.suppress(sqlite3.Error):  # another thread's: closed with it
                conn.close()
        self._hot_conns.clear()
        await self.engine.dispose()
        if self.write_engine is not None:
            await self.write_engine.dispose()
