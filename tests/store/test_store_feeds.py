"""One contract for both feed stores: SQL (embedded default) and Redis (production)."""

from __future__ import annotations

import uuid

import pytest

from roost.store.db import Database
from roost.store.feeds import RedisFeeds, SqlFeeds
from roost.store.migrate import upgrade_engine


@pytest.fixture(params=["sql", pytest.param("redis", marks=pytest.mark.redis)])
async def feeds(request, sqlite_url):
    if request.param == "sql":
        db = Database(sqlite_url)
        await upgrade_engine(db.engine, sqlite_url)
        yield SqlFeeds(db, length=5)
        await db.close()
        return
    import redis.asyncio as aioredis

    client = aioredis.from_url(request.getfixturevalue("redis_url"))
    prefix = f"test:{uuid.uuid4().hex}:"
    yield RedisFeeds(client, length=5, prefix=prefix)
    keys = [k async for k in client.scan_iter(prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_push_then_page_newest_first(feeds):
    for status_id in (10, 30, 20):
        await feeds.push([1, 2], status_id)
    assert await feeds.page(1, max_id=None, min_id=None, limit=10) == [30, 20, 10]
    assert await feeds.page(2, max_id=30, min_id=None, limit=10) == [20, 10]
    assert await feeds.page(2, max_id=None, min_id=10, limit=10) == [30, 20]
    assert await feeds.page(2, max_id=None, min_id=10, limit=1, newest_first=False) == [20]


async def test_ids_beyond_double_precision_stay_exact(feeds):
    big = [2**62 + 1, 2**62 + 2, 2**62 + 3]
    for status_id in big:
        await feeds.push([7], status_id)
    assert await feeds.page(7, max_id=2**62 + 3, min_id=None, limit=10) == [2**62 + 2, 2**62 + 1]


async def test_feeds_are_trimmed_to_their_length(feeds):
    for status_id in range(1, 11):
        await feeds.push([3], status_id)
    await feeds.trim(3)
    assert await feeds.page(3, max_id=None, min_id=None, limit=50) == [10, 9, 8, 7, 6]


async def test_remove_and_backfill(feeds):
    await feeds.add_many(4, [5, 6, 7])
    await feeds.add_many(4, [6])  # twice is harmless
    await feeds.remove([4], [6])
    assert await feeds.page(4, max_id=None, min_id=None, limit=10) == [7, 5]


async def test_empty_feed_is_empty(feeds):
    assert await feeds.page(999, max_id=None, min_id=None, limit=20) == []


async def test_a_push_reaches_every_owner_of_a_large_crowd(feeds, monkeypatch):
    from roost.store import feeds as module

    monkeypatch.setattr(module, "PUSH_CHUNK", 7)  # several chunks, the last one partial
    crowd = list(range(100, 125))
    for status_id in range(1, 8):
        await feeds.push(crowd, status_id)
    for owner in (100, 106, 107, 124):
        assert await feeds.page(owner, max_id=None, min_id=None, limit=3) == [7, 6, 5]
