"""Production mode: PostgreSQL + Redis feeds, the arq job queue and the Redis streaming bus."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from roost.app import start
from roost.services import posts, social, tags
from roost.services.context import build_context
from roost.services.timelines import Page, home
from tests.conftest import empty_postgres
from tests.services.test_services_core import make_user
from tests.support.settings import make_settings
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
async def redis_ctx(pg_database, redis_url):
    await empty_postgres(pg_database)
    db_number = redis_url.rsplit("/", 1)[0] + "/5"  # a database of our own, flushed after
    context = build_context(make_settings(pg_database, redis_url=db_number))
    await context.redis.flushdb()
    await start(context)
    yield context
    await context.redis.flushdb()
    await context.close()


async def test_fanout_through_arq_reaches_redis_feeds_and_streams(redis_ctx):
    ctx = redis_ctx
    alice, bob = await make_user(ctx, "alice"), await make_user(ctx, "bob")
    async with ctx.db.write() as tx:
        await social.follow(ctx, tx, bob["id"], alice["id"])
    stream = await ctx.bus.subscribe([f"user:{bob['id']}"])
    async with ctx.db.write() as tx:
        status_id = await posts.create(ctx, tx, alice, f"via redis {uuid.uuid4().hex}")

    async def arrived() -> bool:
        async with ctx.db.read() as conn:
            return status_id in await home(ctx, bob["id"], Page(), conn)

    await wait_for(arrived, "the post in the follower's home feed", interval=0.02)
    _channel, raw = await asyncio.wait_for(stream.get(), 5)
    message = json.loads(raw)
    assert message["event"] == "update" and message["payload"]["id"] == str(status_id)
    await stream.close()


async def test_a_followed_tag_reaches_a_redis_feed_and_a_delete_takes_it_back(redis_ctx):
    ctx = redis_ctx
    alice, bob = await make_user(ctx, "alice"), await make_user(ctx, "bob")
    async with ctx.db.write() as tx:
        await tags.follow(ctx, tx, bob["id"], "birds")
    async with ctx.db.write() as tx:
        status_id = await posts.create(ctx, tx, alice, f"a heron #birds {uuid.uuid4().hex}")

    async def in_home() -> bool:
        async with ctx.db.read() as conn:
            return status_id in await home(ctx, bob["id"], Page(), conn)

    await wait_for(in_home, "the tagged post in the tag follower's Redis feed", interval=0.02)
    async with ctx.db.write() as tx:
        await posts.delete_status(ctx, tx, status_id, alice["id"])

    async def gone() -> bool:
        return not await in_home()

    await wait_for(gone, "the deleted post out of the tag follower's Redis feed", interval=0.02)
