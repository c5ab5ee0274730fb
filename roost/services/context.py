"""The running site's resources, built once in the lifespan and handed to every service."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import RowMapping, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.config import Settings
from roost.domain.ids import IdGenerator
from roost.services.foreground import Foreground
from roost.services.shelf import Shelf
from roost.store.bus import LocalBus, RedisBus
from roost.store.commits import CommitWatch, Generation
from roost.store.db import Database, Tx
from roost.store.feeds import FeedStore, RedisFeeds, SqlFeeds
from roost.store.media_files import open_media_files
from roost.store.private import write_private


def now() -> datetime:
    return datetime.now(UTC)


# The unit of work services hand to the faces, so that api/ and web/ name no SQLAlchemy type.
Conn = AsyncConnection  # a read connection (or a write transaction's connection)
Row = RowMapping  # one record, read by column name
__all__ = ["Conn", "Context", "Generation", "Row", "Tx", "build_context", "commits", "now", "shelf"]


@dataclass
class Context:
    settings: Settings
    db: Database
    feeds: FeedStore
    bus: LocalBus
    ids: IdGenerator
    secret: bytes
    redis: Any = None
    fanout: Any = None  # roost.services.fanout.Fanout, set once built
    media_files: Any = None  # roost.store.media_files.MediaFiles: where pictures live
    media_jobs: Any = None  # roost.services.media_jobs.MediaJobs, set once built
    foreground: Foreground = field(default_factory=Foreground)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    async def close(self) -> None:
        cards = self.extras.pop("cards", None)  # roost.services.cards.Cards
        if cards is not None:
            await cards.stop()
        if self.fanout is not None:
            await self.fanout.stop()
        if self.media_jobs is not None:
            await self.media_jobs.stop()
        if self.media_files is not None:
            await self.media_files.close()
        await self.bus.close()
        await self.db.close()
        if self.redis is not None:
            await self.redis.aclose()


def instance_secret(settings: Settings) -> bytes:
    """The signing secret: configured, or random and kept beside the SQLite database."""
    if settings.secret_key:
        return settings.secret_key.encode()
    url = make_url(settings.database_url)
    sqlite = url.drivername.startswith("sqlite") and url.database
    folder = Path(url.database or ".").resolve().parent if sqlite else Path()
    path = folder / ".roost-secret"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def build_context(settings: Settings) -> Context:
    """Everything but the background workers (started by ``start``)."""
    db = Database(settings.database_url)
    redis = None
    if settings.redis_url:
        import redis.asyncio as aioredis

        redis = aioredis.from_url(settings.redis_url)
        feeds: FeedStore = RedisFeeds(redis, settings.feed_length)
        bus: LocalBus = RedisBus(redis)
    else:
        feeds = SqlFeeds(db, settings.feed_length)
        bus = LocalBus()
    return Context(
        settings=settings,
        db=db,
        feeds=feeds,
        bus=bus,
        ids=IdGenerator(settings.worker_id),
        secret=instance_secret(settings),
        redis=redis,
        media_files=open_media_files(settings),
    )


def shelf(ctx: Context) -> Shelf:
    """This process's shelf of posts as everyone sees them (``roost.services.shelf``)."""
    found = ctx.extras.get("shelf")
    if found is None:
        found = ctx.extras["shelf"] = Shelf(commits(ctx).every)
    return found


def commits(ctx: Context) -> CommitWatch:
    """This process's commit counters (``roost.store.commits``), made once per context."""
    found = ctx.extras.get("commits")
    if found is None:
        found = ctx.extras["commits"] = CommitWatch(ctx.db)
    return found
