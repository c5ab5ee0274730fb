"""The status server's own storage: ``status_*`` tables in its own SQLite file or PostgreSQL.

Nothing here is shared with the main site: a separate engine, a separate pool, tables prefixed
``status_`` (and, on PostgreSQL, optionally their own schema) so the two never collide. Functions
take a connection and never commit; the service commits once per change (one writer).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from roost.status.model import Component, Incident, ProbeResult, Update


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (naive text) as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()

components = sa.Table(
    "status_components",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

incidents = sa.Table(
    "status_incidents",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("impact", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("monitoring_at", UTCDateTime),
    sa.Column("resolved_at", UTCDateTime),
    sa.Column("scheduled_for", UTCDateTime),
    sa.Column("scheduled_until", UTCDateTime),
    sa.Column("automated", sa.Boolean, nullable=False, default=False),
    sa.Column("components", sa.Text, nullable=False, default="[]"),
)

updates = sa.Table(
    "status_incident_updates",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("incident_id", sa.String(32), nullable=False, index=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("author", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime),
    sa.Column("display_at", UTCDateTime),
    sa.Column("affected_components", sa.Text, nullable=False, default="{}"),
)

probes = sa.Table(
    "status_probes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
    sa.Column("check_name", sa.String(64), nullable=False),
    sa.Column("component", sa.String(64), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("detail", sa.String(300), nullable=False, default=""),
)

daily = sa.Table(
    "status_daily",
    metadata,
    sa.Column("component", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("ok", sa.Integer, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
)

outbox = sa.Table(
    "status_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("headers", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

events = sa.Table(
    "status_shield_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)


def async_url(url: str) -> str:
    """The async driver for a plain URL: aiosqlite for SQLite, asyncpg for PostgreSQL."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def make_engine(url: str, schema: str = "") -> AsyncEngine:
    """The status server's own engine (small pool: one writer, a few readers)."""
    url = async_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url)
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # Bounded waits: a stuck database must not hold the writer (and the admin API) for a minute.
    engine = create_async_engine(
        url,
        pool_size=3,
        max_overflow=2,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args={"timeout": 5, "command_timeout": 10},
    )
    if schema:
        return engine.execution_options(schema_translate_map={None: schema})
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


async def create_tables(engine: AsyncEngine, schema: str = "") -> None:
    async with engine.begin() as conn:
        if schema and conn.dialect.name == "postgresql":
            await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.run_sync(metadata.create_all)


async def _upsert(conn: AsyncConnection, table: sa.Table, key: str, row: dict) -> None:
    """Update, else insert: portable, and safe because the service is the only writer."""
    result = await conn.execute(table.update().where(table.c[key] == row[key]).values(**row))
    if result.rowcount == 0:
        await conn.execute(table.insert().values(**row))


# -- components ---------------------------------------------------------------------------------


async def load_components(conn: AsyncConnection) -> list[Component]:
    rows = await conn.execute(sa.select(components).order_by(components.c.position))
    return [Component(**row._mapping) for row in rows]


async def save_component(conn: AsyncConnection, component: Component) -> None:
    await _upsert(conn, components, "id", dict(component.__dict__))


# -- incidents ----------------------------------------------------------------------------------


async def load_incidents(conn: AsyncConnection) -> list[Incident]:
    found: dict[str, Incident] = {}
    for row in await conn.execute(sa.select(incidents).order_by(incidents.c.created_at)):
        values = dict(row._mapping)
        values["components"] = json.loads(values["components"])
        found[values["id"]] = Incident(**values)
    for row in await conn.execute(sa.select(updates).order_by(updates.c.created_at)):
        values = dict(row._mapping)
        values["affected_components"] = json.loads(values["affected_components"])
        if values["incident_id"] in found:
            found[values["incident_id"]].updates.append(Update(**values))
    return list(found.values())


async def save_incident(conn: AsyncConnection, incident: Incident) -> None:
    row = {k: v for k, v in incident.__dict__.items() if k != "updates"}
    row["components"] = json.dumps(incident.components)
    await _upsert(conn, incidents, "id", row)


async def save_update(conn: AsyncConnection, update: Update) -> None:
    row = dict(update.__dict__)
    row["affected_components"] = json.dumps(update.affected_components)
    await _upsert(conn, updates, "id", row)


# -- probes and uptime --------------------------------------------------------------------------


async def add_probes(conn: AsyncConnection, results: Iterable[ProbeResult]) -> None:
    rows = [
        {
            "at": r.at,
            "check_name": r.check,
            "component": r.component,
            "ok": r.ok,
            "latency_ms": r.latency_ms,
            "detail": r.detail[:300],
        }
        for r in results
    ]
    if rows:
        await conn.execute(probes.insert(), rows)
        await _bump_daily(conn, rows)


async def _bump_daily(conn: AsyncConnection, rows: list[dict]) -> None:
    counts: dict[tuple[str, date], list[int]] = {}
    for row in rows:
        tally = counts.setdefault((row["component"], row["at"].date()), [0, 0])
        tally[0] += int(row["ok"])
        tally[1] += 1
    for (component, day), (ok, total) in counts.items():
        match = (daily.c.component == component) & (daily.c.day == day)
        bump = daily.update().where(match).values(ok=daily.c.ok + ok, total=daily.c.total + total)
        if (await conn.execute(bump)).rowcount == 0:
            await conn.execute(
                daily.insert().values(component=component, day=day, ok=ok, total=total)
            )


async def load_daily(conn: AsyncConnection, since: date) -> dict[tuple[str, date], tuple[int, int]]:
    rows = await conn.execute(sa.select(daily).where(daily.c.day >= since))
    return {(r.component, r.day): (r.ok, r.total) for r in rows}


async def load_probes(conn: AsyncConnection, since: datetime) -> list[ProbeResult]:
    query = sa.select(probes).where(probes.c.at >= since).order_by(probes.c.at)
    return [
        ProbeResult(r.at, r.check_name, r.component, r.ok, r.latency_ms, r.detail)
        for r in await conn.execute(query)
    ]


async def prune_probes(conn: AsyncConnection, before: datetime) -> None:
    await conn.execute(probes.delete().where(probes.c.at < before))


async def add_event(conn: AsyncConnection, received_at: datetime, payload: dict) -> None:
    row = {"received_at": received_at, "type": payload["type"], "payload": json.dumps(payload)}
    await conn.execute(events.insert().values(**row))
