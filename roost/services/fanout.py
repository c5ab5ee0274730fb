"""Fan-out: delivering a stored post to followers' home feeds and live streams, off the request.

A post is written with ``fanout_state = pending`` in the same transaction as the post itself, so
the request returns as soon as the post is durable. Delivery then runs in the background (an
asyncio worker in the embedded default, an arq job queue on Redis when Redis is configured) and
marks the post ``done``. After a crash, ``start`` finds pending posts and delivers them again;
pushing an id into a feed twice is harmless, so redelivery is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Container, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping

from roost.domain.fanout import FanoutState, push_on_write
from roost.services import lists as list_service
from roost.services import posts, social, timelines
from roost.services import tags as tag_service
from roost.services.context import Context
from roost.store.feeds import SqlFeeds
from roost.store.tables import accounts, mentions, status_tags, statuses, tags

log = logging.getLogger(__name__)
BACKFILL = 40  # posts copied into a feed when its owner follows someone new
SQL_BATCH = 500  # feed rows written with the post's state in one SQL transaction
FOLLOWER_CHUNK = 1000  # followers read per query during a large fan-out
FOLLOWERS: list[int] = []  # marker: "all followers, read in chunks"
TRIM_EVERY = 600.0  # seconds between trims of over-long SQL feeds (Redis trims on push)

Render = Callable[[Context, int], Awaitable[dict | None]]


class Fanout:
    """Runs delivery jobs; ``render`` turns a status id into its streamed JSON entity."""

    def __init__(self, ctx: Context, render: Render, workers: int = 2) -> None:
        self.ctx = ctx
        self.render = render
        self.queue: asyncio.Queue[int] = asyncio.Queue()
        self.tasks: list[asyncio.Task] = []
        self.announcing: set[asyncio.Task] = set()  # edits being streamed (announce_edit)
        self.workers = workers
        self.arq: Any = None
        self.arq_worker: Any = None
        self.idle = asyncio.Event()
        self.idle.set()

    async def start(self) -> None:
        if self.ctx.redis is not None:
            await self._start_arq()
        else:
            self.tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]
        if isinstance(self.ctx.feeds, SqlFeeds):
            self.tasks.append(asyncio.create_task(self._trim_forever(self.ctx.feeds)))
        async with self.ctx.db.read() as conn:
            pending = await posts.pending_fanout(conn)
        for status_id in pending:
            await self.enqueue(status_id)
        if pending:
            log.info("resuming fan-out of %d posts left pending", len(pending))

    async def _start_arq(self) -> None:
        from arq import create_pool
        from arq.connections import RedisSettings
        from arq.worker import Worker, func

        settings = RedisSettings.from_dsn(self.ctx.settings.redis_url)
        self.arq = await create_pool(settings)
        self.arq_worker = Worker(
            functions=[func(self._arq_job, name="fanout", max_tries=10)],  # type: ignore[arg-type]
            redis_pool=self.arq,
            handle_signals=False,
            poll_delay=0.05,  # pickup within 50 ms; polling costs the request loop
            max_jobs=8,
            keep_result=0,
        )
        self.tasks = [asyncio.create_task(self.arq_worker.async_run())]

    async def _arq_job(self, _job_ctx: dict, status_id: int) -> None:
        await self.deliver(status_id)

    async def enqueue(self, status_id: int) -> None:
        if self.arq is not None:
            await self.arq.enqueue_job("fanout", status_id, _job_id=f"fanout:{status_id}")
        else:
            self.idle.clear()
            self.queue.put_nowait(status_id)

    async def _work(self) -> None:
        while True:
            status_id = await self.queue.get()
            try:
                await self.deliver(status_id)
            except Exception:  # one failed delivery must not stop the worker; resumed at start
                log.exception("fan-out of %s failed; it stays pending", status_id)
            finally:
                self.queue.task_done()
                if self.queue.empty():
                    self.idle.set()

    async def _trim_forever(self, feeds: SqlFeeds) -> None:
        """Feeds grow by one row per delivered post; keep each to its bounded length."""
        while True:
            await asyncio.sleep(TRIM_EVERY)
            try:
                for owner in await feeds.oversized_owners():
                    await feeds.trim(owner)
            except Exception:  # trimming is housekeeping: log and try again next time
                log.exception("trimming home feeds failed")

    async def drain(self) -> None:
        """Wait until queued deliveries are done (tests, shutdown)."""
        if self.arq is None:
            await self.queue.join()

    async def deliver(self, status_id: int) -> None:
        ctx = self.ctx
        found = await self._audience(status_id)
        if found is None or found[0]["fanout_state"] == FanoutState.DONE:
            return
        row, recipients, channels = found
        stream = _Stream(self, status_id)
        recipients = await self._reach(row, recipients, channels, stream, True)
        async with ctx.db.read() as conn:
            fans = await self.tag_followers(conn, row)
        if fans:  # public posts with a tag they follow reach their home timelines too
            await stream.send(_user_channels(fans, await self._online_except_shunning(row)))
            recipients = [*recipients, *fans]
        sql_feeds = ctx.feeds if isinstance(ctx.feeds, SqlFeeds) else None
        small_sql = sql_feeds is not None and len(recipients) <= SQL_BATCH
        if not small_sql:
            await ctx.feeds.push(recipients, status_id)
        async with ctx.db.write(background=True) as tx:
            if sql_feeds is not None and small_sql:  # one commit (one fsync) for both
                await sql_feeds.push_in(tx.conn, recipients, status_id)
            await tx.conn.execute(
                update(statuses)
                .where(statuses.c.id == status_id)
                .values(fanout_state=FanoutState.DONE.value)
            )

    async def _audience(self, status_id: int) -> tuple[RowMapping, list[int], list[str]] | None:
        """The post, who gets it in their feed (or ``FOLLOWERS``), and its public and list
        channels."""
        async with self.ctx.db.read() as conn:
            found = await conn.execute(select(statuses).where(statuses.c.id == status_id))
            row = found.mappings().first()
            if row is None:
                return None
            channels = await self._public_channels(conn, row)
            channels += await list_service.channels_of_post(conn, row)
            return row, await self._recipients(conn, row), channels

    async def _reach(
        self, row: RowMapping, recipients: list[int], channels: list[str], stream, push: bool
    ) -> list[int]:
        """Stream to the audience (and, with ``push``, fill large audiences' feeds chunk by
        chunk); returns the recipients still to push, the author alone after chunks."""
        ctx = self.ctx
        author = row["account_id"]
        online = await self._online_except_shunning(row)
        if recipients is not FOLLOWERS:
            await stream.send(channels + _user_channels(recipients, online))
            return recipients
        await stream.send([*channels, *_user_channels([author], online)])
        async for chunk in self._follower_chunks(author):  # no one step holds the loop long
            await ctx.foreground.step_aside()
            if push:
                await ctx.feeds.push(chunk, row["id"])
            await stream.send(_user_channels(chunk, online))
        return [author]

    async def _online_except_shunning(self, row: RowMapping) -> Container[int]:
        """Who has a stream open (streams go only there), less whoever mutes or blocks the
        author or keeps them in an exclusive list: streams leave them out as home timelines
        do."""
        online = self.ctx.bus.listening_users()
        return _Except(online, await self._shunning(row)) if online else online

    async def tag_followers(self, conn, row: RowMapping) -> list[int]:
        """Who gets a post for following one of its tags: public original posts only (as
        Mastodon's fan-out to hashtag followers), not those who follow the author."""
        if row["visibility"] != "public" or row["reblog_of_id"] is not None:
            return []
        return await tag_service.followers_of_post(conn, row["id"], row["account_id"])

    async def _shunning(self, row: RowMapping) -> set[int]:
        authors = [row["account_id"]]
        async with self.ctx.db.read() as conn:
            if row["reblog_of_id"] is not None:
                original = await conn.scalar(
                    select(statuses.c.account_id).where(statuses.c.id == row["reblog_of_id"])
                )
                authors += [original] if original is not None else []
            shunning = await social.shunning(conn, authors)
            return shunning | await list_service.exclusive_owners(conn, row["account_id"])

    async def _follower_chunks(self, author: int):
        after = 0
        while True:
            async with self.ctx.db.read() as conn:
                chunk = await social.follower_ids_after(conn, author, after, FOLLOWER_CHUNK)
            if not chunk:
                return
            yield chunk
            after = chunk[-1]

    async def _recipients(self, conn, row: RowMapping) -> list[int]:
        author = row["account_id"]
        if row["visibility"] == "direct":
            mentioned = await conn.scalars(
                select(mentions.c.account_id).where(mentions.c.status_id == row["id"])
            )
            return [author, *mentioned]
        count = await conn.scalar(select(accounts.c.followers_count).where(accounts.c.id == author))
        if not push_on_write(count or 0, self.ctx.settings.fanout_threshold):
            return [author]  # followers merge this author's posts at read time
        if (count or 0) > FOLLOWER_CHUNK:
            return FOLLOWERS
        return [author, *await social.follower_ids(conn, author)]

    async def _public_channels(self, conn, row: RowMapping) -> list[str]:
        if row["visibility"] != "public" or row["reblog_of_id"] is not None:
            return []
        names = await conn.scalars(
            select(tags.c.name)
            .join(status_tags, status_tags.c.tag_id == tags.c.id)
            .where(status_tags.c.status_id == row["id"])
        )
        return ["public", "public:local", *(f"hashtag:{n}" for n in names)]

    async def retract(
        self, row: RowMapping, status_ids: list[int], also: Sequence[int] = ()
    ) -> None:
        """A deleted post leaves every feed and every open stream (``also``: the tag followers
        it reached, read before the delete took its tags)."""
        ctx = self.ctx
        async with ctx.db.read() as conn:
            owners = [row["account_id"], *await social.follower_ids(conn, row["account_id"])]
            lists = await list_service.channels_of_author(conn, row["account_id"])
        owners += also
        await ctx.feeds.remove(owners, status_ids)
        remove_all = getattr(ctx.feeds, "remove_everywhere", None)
        if remove_all is not None:
            await remove_all(status_ids)
        online = ctx.bus.listening_users()
        channels = [*_user_channels(owners, online), "public", "public:local", *lists]
        for status_id in status_ids:
            message = json.dumps({"event": "delete", "payload": str(status_id)})
            await ctx.bus.publish_many(channels, message)

    def announce_edit(self, status_id: int) -> None:
        """An edited post goes out as ``status.update`` to the streams its ``update`` went to,
        and so do its reblogs (their entities embed it), as Mastodon does. Feeds keep ids, so
        they need nothing.

        It runs beside the request, not in it: a large audience is read in chunks that step
        aside for requests in flight, the edit's own among them. Failure policy: it is sent
        once, after the edit commits; an error or a crash loses the live event, never the
        edit (clients see it on their next read), and is logged.
        """
        task = asyncio.create_task(self._announce_edit(status_id))
        self.announcing.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self.announcing.discard)

    async def _announce_edit(self, status_id: int) -> None:
        try:
            async with self.ctx.db.read() as conn:
                reblogs = await conn.scalars(
                    select(statuses.c.id).where(statuses.c.reblog_of_id == status_id)
                )
                ids = [status_id, *reblogs]
            for one in ids:
                await self._announce_one(one)
        except Exception:
            log.exception("streaming the edit of %s failed; the edit itself is stored", status_id)

    async def _announce_one(self, status_id: int) -> None:
        found = await self._audience(status_id)
        if found is not None:
            row, recipients, channels = found
            stream = _Stream(self, status_id, "status.update")
            await self._reach(row, recipients, channels, stream, push=False)

    async def backfill(self, follower_id: int, target_id: int) -> None:
        async with self.ctx.db.read() as conn:
            recent = await timelines.recent_by(conn, target_id, BACKFILL)
        await self.ctx.feeds.add_many(follower_id, recent)

    async def unfill(self, follower_id: int, target_id: int) -> None:
        async with self.ctx.db.read() as conn:
            ids = list(
                await conn.scalars(select(statuses.c.id).where(statuses.c.account_id == target_id))
            )
        await self.ctx.feeds.remove([follower_id], ids)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking jobs, let running deliveries finish (bounded), then close."""
        if self.arq_worker is not None:
            self.arq_worker.allow_pick_jobs = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arq_worker._sleep_until_tasks_complete(), grace)
        for task in [*self.tasks, *self.announcing]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.arq is not None:
            await self.arq.aclose()


class _Except:
    """The accounts in ``within`` but not in ``left_out``, without copying ``within``."""

    def __init__(self, within: Container[int], left_out: set[int]) -> None:
        self.within = within
        self.left_out = left_out

    def __contains__(self, account: object) -> bool:
        return account not in self.left_out and account in self.within

    def __bool__(self) -> bool:
        return True


def _user_channels(accounts: list[int], online: Container[int]) -> list[str]:
    return [f"user:{a}" for a in accounts if a in online]


class _Stream:
    """A post's live-stream message, rendered at most once, sent to channels as they come.

    Streams are sent before the durable feed write (the post itself is already durable); after
    a crash the post is delivered again, so a stream may see it twice; clients de-duplicate
    updates by id.
    """

    def __init__(self, fanout: Fanout, status_id: int, event: str = "update") -> None:
        self.fanout = fanout
        self.status_id = status_id
        self.event = event
        self.message: str | None = None
        self.gone = False

    async def send(self, channels: list[str]) -> None:
        bus = self.fanout.ctx.bus
        if self.gone or not channels or not bus.may_listen(channels):
            return  # nobody is streaming these: skip rendering the entity
        if self.message is None:
            entity = await self.fanout.render(self.fanout.ctx, self.status_id)
            if entity is None:
                self.gone = True
                return
            self.message = json.dumps({"event": self.event, "payload": entity})
        await bus.publish_many(channels, self.message)
