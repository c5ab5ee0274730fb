"""Picture processing as a job: through arq on Redis (any process may take it), resumed after a
restart, and a worker process that dies taking only its upload with it."""

from __future__ import annotations

import pytest

from roost.app import start
from roost.domain.errors import Invalid
from roost.services import media
from roost.services.context import build_context
from roost.services.media_jobs import _pool
from tests.conftest import empty_postgres
from tests.services.test_services_core import make_user
from tests.support import pictures
from tests.support.settings import make_settings


async def _upload(ctx, account_id: int, data: bytes) -> int:
    incoming, _ = await media.receive(ctx, data)
    async with ctx.db.write() as tx:
        return await media.upload(ctx, tx, account_id, incoming, len(data), "alt", None)


@pytest.mark.redis
@pytest.mark.postgres
async def test_an_upload_is_processed_through_arq(pg_database, redis_url):
    await empty_postgres(pg_database)
    db_number = redis_url.rsplit("/", 1)[0] + "/6"
    ctx = build_context(make_settings(pg_database, redis_url=db_number))
    await ctx.redis.flushdb()
    await start(ctx)
    try:
        alice = await make_user(ctx, "alice")
        media_id = await _upload(ctx, alice["id"], pictures.jpeg(300, 200, gps=True))
        assert await ctx.media_jobs.wait(media_id, 20) == media.READY
        async with ctx.db.read() as conn:
            row = await media.own(conn, alice["id"], media_id)
        kept = pictures.read(await ctx.media_files.get(row["file_key"]))
        assert kept.size == (300, 200) and not kept.getexif()
    finally:
        await ctx.redis.flushdb()
        await ctx.close()


async def test_an_upload_left_processing_is_processed_after_a_restart(sqlite_url):
    settings = make_settings(sqlite_url)
    ctx = build_context(settings)
    await start(ctx)
    alice = await make_user(ctx, "alice")
    await ctx.media_jobs.stop()  # the process "stops" before the job runs
    ctx.media_jobs.enqueue = _never  # acknowledged, never queued
    media_id = await _upload(ctx, alice["id"], pictures.png())
    assert await media.state_of(ctx, media_id) == media.PROCESSING
    await ctx.close()

    again = build_context(settings)
    await start(again)
    try:
        assert await again.media_jobs.wait(media_id, 20) == media.READY
    finally:
        await again.close()


async def _never(media_id: int) -> None:
    return None


async def test_a_crashed_worker_refuses_its_upload_and_the_next_one_works(sqlite_url):
    ctx = build_context(make_settings(sqlite_url))
    await start(ctx)
    try:
        with pytest.raises(Invalid, match="could not be processed"):
            await ctx.media_jobs.crunch(_die)
        assert await ctx.media_jobs.crunch(sum, [1, 2]) == 3  # a new pool took its place
        assert _pool(ctx.media_jobs.workers) is not None
    finally:
        await ctx.close()


def _die() -> None:
    import os

    os._exit(1)
