"""Hot reads on the driver itself: a prebuilt SELECT compiled once per dialect, run without
SQLAlchemy's per-execution machinery.

Why: on the read path SQLAlchemy cost more than the database. Profiled under wrk, an uncached
home-timeline page spent 32% of the server's time in SQLAlchemy and 18% in the SQLite driver; the
same statement took 0.156 ms through ``conn.execute`` and 0.045 ms on sqlite3 directly (an
execution context, parameter and result processing and a greenlet hop per statement). A page
runs five or six statements, so the few every read takes go this way.

The statement stays written once, in SQLAlchemy Core; here it is compiled for the connection's
dialect on first use and its lists are passed whole (``IN (__[POSTCOMPILE_x])`` becomes
``json_each(?)`` on SQLite and ``unnest($n::BIGINT[])`` on PostgreSQL), so one compiled text
serves every list length and PostgreSQL prepares it once. Results come back through the same
type processors SQLAlchemy applies (aware UTC datetimes, booleans), so a caller cannot tell the
two roads apart; ``tests/store/test_hot.py`` compares them on both databases.

Only SELECTs belong here, with lists of integers or strings: nothing is written, no value
needs bind processing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import BindParameter, Boolean, String
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select
from sqlalchemy.sql.selectable import CompoundSelect

from roost.store.tables import UtcDateTime

_LIST = re.compile(r"__\[POSTCOMPILE_(\w+)\]")
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...]  # parameter names, in the driver's positional order
    defaults: Mapping[str, Any]  # literals and defaults the statement carries itself
    lists: frozenset[str]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column, processor) to apply
    postgres: bool


class Hot:
    """One prebuilt SELECT, run on the driver of the connection it is given."""

    def __init__(self, statement: Select | CompoundSelect) -> None:
        self.statement = statement
        self.keys = tuple(statement.selected_columns.keys())
        self._compiled: dict[str, _Compiled] = {}

    async def rows(self, conn: AsyncConnection, params: Mapping[str, Any]) -> list[tuple]:
        """The result rows as tuples, in the statement's column order."""
        dialect = conn.dialect
        compiled = self._compiled.get(dialect.name) or self._compile(dialect)
        values = _values(compiled, params)
        raw = getattr(conn, "raw", None)  # a read's own sqlite3 connection (store.db)
        if raw is not None:
            found = raw.execute(compiled.sql, values).fetchall()
        else:
            if conn.sync_connection is None:  # a read not yet taken from the pool
                await conn.start()
            sync = conn.sync_connection
            assert sync is not None
            driver = sync.connection.driver_connection
            if compiled.postgres:
                found = await driver.fetch(compiled.sql, *values)  # type: ignore[union-attr]
            else:
                found = driver._conn.execute(compiled.sql, values).fetchall()  # type: ignore[union-attr]
        if not compiled.processors:
            return [tuple(row) for row in found]
        out = []
        for row in found:
            values = list(row)
            for index, process in compiled.processors:
                if values[index] is not None:
                    values[index] = process(values[index])
            out.append(tuple(values))
        return out

    async def mappings(self, conn: AsyncConnection, params: Mapping[str, Any]) -> list[Any]:
        """The result rows as dicts by column name, read as ``.mappings()`` rows are (typed
        ``Any`` so that they go wherever a ``RowMapping`` goes)."""
        keys = self.keys
        return [dict(zip(keys, row, strict=True)) for row in await self.rows(conn, params)]

    async def scalars(self, conn: AsyncConnection, params: Mapping[str, Any]) -> list:
        """The first column of every row."""
        return [row[0] for row in await self.rows(conn, params)]

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        postgres = dialect.name == "postgresql"
        order = tuple(compiled.positiontup or ())
        lists = frozenset(_LIST.findall(compiled.string))
        if postgres:  # $1, $2... number the plain parameters; lists take the next numbers
            order = tuple(name for name in order if name not in lists) + tuple(sorted(lists))
            number = {name: index + 1 for index, name in enumerate(order)}
            kind = {n: "TEXT" if _is_text(compiled.binds[n].type) else "BIGINT" for n in lists}
            sql = _LIST.sub(
                lambda m: f"SELECT unnest(${number[m[1]]}::{kind[m[1]]}[])", compiled.string
            )
        else:
            sql = _LIST.sub("SELECT value FROM json_each(?)", compiled.string)
        defaults = {
            name: bind.value
            for name, bind in compiled.binds.items()
            if isinstance(bind, BindParameter) and not bind.required
        }
        columns = self.statement.selected_columns
        processors = tuple(
            (index, process)
            for index, column in enumerate(columns)
            if (process := _processor(column.type, dialect)) is not None
        )
        made = _Compiled(sql, order, defaults, lists, processors, postgres)
        self._compiled[dialect.name] = made
        return made


def _values(compiled: _Compiled, params: Mapping[str, Any]) -> list:
    """The driver's positional values: a list goes whole (an array for asyncpg, JSON text for
    SQLite's json_each), encoded once however often the statement names it."""
    encoded: dict[str, Any] = {}
    values = []
    for name in compiled.order:
        value = encoded.get(name)
        if value is None:
            value = params[name] if name in params else compiled.defaults[name]
            if name in compiled.lists:
                value = list(value) if compiled.postgres else orjson.dumps(list(value)).decode()
            encoded[name] = value
        values.append(value)
    return values


def _is_text(kind: Any) -> bool:
    return isinstance(kind, String)


def _processor(kind: Any, dialect: Dialect) -> Processor:
    """What SQLAlchemy would do to a column's value, done cheaply where it is hot."""
    if dialect.name == "sqlite":
        if isinstance(kind, UtcDateTime):
            return _sqlite_moment
        if isinstance(kind, Boolean):
            return bool
    return kind.dialect_impl(dialect).result_processor(dialect, None)


def _sqlite_moment(value: str) -> datetime:
    """SQLite keeps instants as ``YYYY-MM-DD HH:MM:SS.ffffff`` text, in UTC."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
