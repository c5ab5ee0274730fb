"""SQLite's writers: a group commit wakes each writer on its own, and a client's read lets the
client writes in flight go first (roost.store.db)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from roost.store import db as store_db
from roost.store.db import Database
from roost.store.migrate import upgrade_engine
from roost.store.tables import tags

_ids = itertools.count(1)


def _row(name: str) -> dict:
    return {"id": next(_ids), "name": name, "created_at": datetime.now(UTC)}


@pytest.fixture
async def db(sqlite_url):
    database = Database(sqlite_url)
    await upgrade_engine(database.engine, sqlite_url)
    yield database
    await database.close()


async def _tag(db: Database, name: str) -> None:
    async with db.write() as tx:
        await tx.conn.execute(insert(tags).values(_row(name)))


async def _holding(db: Database, name: str, entered: asyncio.Event, release: asyncio.Event):
    """A client write that stays inside its transaction (holding the writer) until released."""
    async with db.write() as tx:
        await tx.conn.execute(insert(tags).values(_row(name)))
        entered.set()
        await release.wait()


async def _count(db: Database) -> int:
    async with db.read() as conn:
        return await conn.scalar(select(func.count()).select_from(tags))


async def test_a_cancelled_writer_leaves_the_others_of_its_group_committed(db):
    entered, release = asyncio.Event(), asyncio.Event()
    waiting = asyncio.create_task(_tag(db, "waiting"))  # in first: then waits for the commit
    holding = asyncio.create_task(_holding(db, "holding", entered, release))
    queued = asyncio.create_task(_tag(db, "queued"))  # waits for the writer
    await entered.wait()
    waiting.cancel()  # gives up waiting for the group's commit
    release.set()
    results = await asyncio.gather(waiting, holding, queued, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert results[1:] == [None, None]  # the others of its group were not cancelled with it
    async with db.read() as conn:
        names = set(await conn.scalars(select(tags.c.name)))
    assert {"holding", "queued"} <= names


async def test_a_read_waits_for_the_client_write_in_flight(db, monkeypatch):
    monkeypatch.setattr(store_db, "READ_YIELD", 30.0)
    entered, release = asyncio.Event(), asyncio.Event()
    writing = asyncio.create_task(_holding(db, "posted", entered, release))
    await entered.wait()
    asyncio.get_running_loop().call_later(0.05, release.set)
    await db.behind_writes()  # returns once the write is acknowledged
    assert writing.done() and writing.exception() is None
    assert await _count(db) == 1


async def test_a_read_waits_no_longer_than_read_yield(db, monkeypatch):
    monkeypatch.setattr(store_db, "READ_YIELD", 0.01)
    entered, release = asyncio.Event(), asyncio.Event()
    writing = asyncio.create_task(_holding(db, "slow", entered, release))
    await entered.wait()
    started = asyncio.get_running_loop().time()
    await db.behind_writes()
    assert not writing.done()  # the read went ahead: a write never holds reads for long
    assert asyncio.get_running_loop().time() - started < 1.0
    release.set()
    await writing


async def test_background_writes_hold_no_read(db):
    entered = asyncio.Event()
    release = asyncio.Event()

    async def upkeep() -> None:
        async with db.write(background=True) as tx:
            await tx.conn.execute(insert(tags).values(_row("upkeep")))
            entered.set()
            await release.wait()

    writing = asyncio.create_task(upkeep())
    await entered.wait()
    await asyncio.wait_for(db.behind_writes(), 0.005)  # no client write: no wait at all
    release.set()
    await writing
