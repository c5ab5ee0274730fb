"""An aiosqlite-shaped driver that runs sqlite3 on the event loop's own thread.

Why: aiosqlite hands every call to a worker thread. A timeline page makes a few dozen driver
calls, and under load each hand-off costs 0.1-0.7 ms of queueing and GIL contention, while the
queries themselves read SQLite's page cache in microseconds. Measured on the demo data set:
35 ms per home-timeline page through aiosqlite. So reads run inline (SQLAlchemy's aiosqlite
dialect drives this module exactly as it would aiosqlite); COMMIT too (see ``commit``).
"""

from __future__ import annotations

import sqlite3
from sqlite3 import (  # noqa: F401  # the DBAPI names SQLAlchemy's adapter copies from us
    DatabaseError,
    Error,
    IntegrityError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    sqlite_version,
    sqlite_version_info,
)
from types import SimpleNamespace
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

__version__ = "0.22.1"  # the aiosqlite behaviour we imitate (has Connection.stop)


class Cursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, rows: Any) -> Cursor:
        self._cursor.executemany(sql, rows)
        return self

    async def fetchall(self) -> list:
        return self._cursor.fetchall()

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list:
        return self._cursor.fetchmany(size or self._cursor.arraysize)

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self):
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self):
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _RunNow:
    """Stands in for aiosqlite's job queue: SQLAlchemy puts (future, function) on it."""

    def __init__(self) -> None:
        pass

    def put_nowait(self, item) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class Connection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn
        self._tx = _RunNow()

    def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        """COMMIT on the loop's thread too, fsync included: it holds the loop for the fsync
        (0.3-2 ms on this machine's disk), but handing it to a thread cost far more under
        load: the thread waited 15-20 ms for the GIL the loop's reads held, and the loop saw
        the result 55 ms after it came (bench/steady_state.py, 5 posts/s among 32 readers)."""
        if self._conn.in_transaction:
            self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._conn.close()
            self._connection = None

    def stop(self) -> None:
        if self._connection is not None:
            self._conn.close()
            self._connection = None

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    @property
    def isolation_level(self):
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value) -> None:
        self._conn.isolation_level = value


class _Connecting:
    """What ``connect`` returns: awaitable, with the ``_thread`` SQLAlchemy marks as daemon."""

    def __init__(self, args: tuple, kw: dict) -> None:
        self.args = args
        self.kw = kw
        self._thread = SimpleNamespace(daemon=True)

    def __await__(self):
        return self._open().__await__()

    async def _open(self) -> Connection:
        kw = dict(self.kw)
        kw["check_same_thread"] = False
        return Connection(sqlite3.connect(*self.args, **kw))


def connect(*args: Any, **kw: Any) -> _Connecting:
    return _Connecting(args, kw)


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The module object to hand ``create_async_engine(module=...)``."""
    import sys

    return AsyncAdapt_aiosqlite_dbapi(sys.modules[__name__], sqlite3)
