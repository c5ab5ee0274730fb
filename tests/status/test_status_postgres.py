"""The status store on the real PostgreSQL, in a schema of its own (no clash with the site)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from status_support import Clock

from roost.status.machine import Thresholds
from roost.status.model import ProbeResult
from roost.status.service import StatusService
from roost.status.store import make_engine

PG_URL = os.environ.get("ROOST_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
COMPONENTS = ["Web", "API"]


def need_postgres() -> None:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=0.5).close()
    except OSError:
        message = "PostgreSQL is not running on 127.0.0.1:5432"
        if os.environ.get("ROOST_TEST_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    need_postgres()
    name = f"status_test_{uuid.uuid4().hex[:10]}"
    yield name
    engine = make_engine(PG_URL)
    async with engine.begin() as conn:
        await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    await engine.dispose()


def make(schema: str, clock: Clock) -> StatusService:
    return StatusService(
        make_engine(PG_URL, schema),
        name="Roost",
        url="http://status",
        components=COMPONENTS,
        thresholds=Thresholds(fail_after=2, recover_after=2),
        schema=schema,
        clock=clock,
        start_grace=timedelta(0),  # past its start-up grace: failures count at once
    )


@pytest.mark.postgres
async def test_incidents_and_probes_round_trip_on_postgres(schema: str) -> None:
    clock = Clock()
    first = make(schema, clock)
    await first.start()
    for _ in range(2):
        clock.advance(5)
        await first.record_round([ProbeResult(clock(), "home", "web", False, 3000.0, "down")])
    opened = first.incidents[first.auto_incident_id or ""]
    await first.close()

    second = make(schema, clock)
    await second.start()
    try:
        again = second.incidents[opened.id]
        assert again.started_at == opened.started_at
        assert [u.body for u in again.updates] == [u.body for u in opened.updates]
        assert again.updates[0].affected_components == {"web": ["operational", "major_outage"]}
        assert second.tallies.days == first.tallies.days
        async with second.engine.connect() as conn:
            tables = await conn.execute(
                sa.text("select table_name from information_schema.tables where table_schema=:s"),
                {"s": schema},
            )
            assert {r[0] for r in tables} >= {"status_incidents", "status_probes", "status_daily"}
    finally:
        await second.close()


@pytest.mark.postgres
async def test_webhook_journal_on_postgres(schema: str) -> None:
    from roost.status.journal import StoreJournal
    from roost.status.store import create_tables

    engine = make_engine(PG_URL, schema)
    try:
        await create_tables(engine, schema)
        journal = StoreJournal(engine)
        first = await journal.add(
            "http://hook/1", b'{"a": 1}', {"x-roost-event": "incident.update"}
        )
        await journal.attempted(first, 2)
        (pending,) = await journal.pending()
        assert pending == (
            first,
            "http://hook/1",
            b'{"a": 1}',
            {"x-roost-event": "incident.update"},
            2,
        )
        await journal.done(first)
        assert await journal.pending() == []
    finally:
        await engine.dispose()
