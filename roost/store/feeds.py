"""Home feeds: each account's list of status ids, newest first, bounded in length.

Two stores with one contract (tested by the same tests): ``SqlFeeds`` keeps feeds in the
``home_feed`` table for the embedded default (durable, no services needed); ``RedisFeeds`` keeps
one sorted set per account when ``ROOST_REDIS_URL`` is set. Redis scores are doubles, which
cannot hold 64-bit ids exactly, so members are zero-padded id strings under one score and ranges
are lexicographic (ZRANGEBYLEX): exact cursors, and rank order equals id order for trimming.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import and_, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from roost.domain.ids import MAX_ID
from roost.store.db import Database
from roost.store.hot import Hot
from roost.store.tables import home_feed

PAD = 19  # digits of the largest 63-bit id
PUSH_CHUNK = 1000  # feeds one Redis script call pushes into
# Push one member into every feed in KEYS and trim each to the newest ARGV[2] members.
PUSH_SCRIPT = """
local keep = -tonumber(ARGV[2]) - 1
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, 0, ARGV[1])
  redis.call('ZREMRANGEBYRANK', key, 0, keep)
end
return #KEYS
"""

# Built once: building a statement per read costs more than running it (roost.services.timelines).
_FEED = select(home_feed.c.status_id).where(
    home_feed.c.owner_id == bindparam("owner"),
    home_feed.c.status_id < bindparam("below"),
    home_feed.c.status_id > bindparam("above"),
)
FEED_NEWEST = Hot(_FEED.order_by(home_feed.c.status_id.desc()).limit(bindparam("limit")))
FEED_OLDEST = Hot(_FEED.order_by(home_feed.c.status_id.asc()).limit(bindparam("limit")))


class FeedStore(Protocol):
    async def push(self, owner_ids: Sequence[int], status_id: int) -> None: ...

    async def add_many(self, owner_id: int, status_ids: Sequence[int]) -> None: ...

    async def page(
        self,
        owner_id: int,
        *,
        max_id: int | None,
        min_id: int | None,
        limit: int,
        newest_first: bool = True,
        conn=None,
    ) -> list[int]: ...

    async def remove(self, owner_ids: Sequence[int], status_ids: Sequence[int]) -> None: ...

    async def trim(self, owner_id: int) -> None: ...


class SqlFeeds:
    """Feeds as rows (owner_id, status_id); trimmed by ``trim`` from the maintenance task."""

    def __init__(self, db: Database, length: int) -> None:
        self.db = db
        self.length = length

    def _insert(self):
        dialect = postgresql if self.db.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(home_feed).on_conflict_do_nothing()

    async def push(self, owner_ids: Sequence[int], status_id: int) -> None:
        # Batches of 500 rows, written as background work: each holds the single SQLite writer
        # for a millisecond or two, and posts waiting to be acknowledged go first. Only the last
        # waits for fsync: SQLite commits one connection's writes in order (db.write).
        for start in range(0, len(owner_ids), 500):
            last = start + 500 >= len(owner_ids)
            async with self.db.write(background=True, durable=last) as tx:
                await self.push_in(tx.conn, owner_ids[start : start + 500], status_id)

    async def push_in(self, conn, owner_ids: Sequence[int], status_id: int) -> None:
        """Push inside a caller's transaction (fan-out marks the post done in the same one)."""
        rows = [{"owner_id": owner, "status_id": status_id} for owner in owner_ids]
        if rows:
            await conn.execute(self._insert(), rows)

    async def add_many(self, owner_id: int, status_ids: Sequence[int]) -> None:
        if status_ids:
            async with self.db.write(background=True) as tx:
                rows = [{"owner_id": owner_id, "status_id": s} for s in status_ids]
                await tx.conn.execute(self._insert(), rows)

    async def page(
        self,
        owner_id: int,
        *,
        max_id: int | None,
        min_id: int | None,
        limit: int,
        newest_first: bool = True,
        conn=None,
    ) -> list[int]:
        """Newest first by default; ``conn`` reuses the caller's connection (no pool nesting)."""
        statement = FEED_NEWEST if newest_first else FEED_OLDEST
        params = {
            "owner": owner_id,
            "below": max_id if max_id is not None else MAX_ID,
            "above": min_id if min_id is not None else 0,
            "limit": limit,
        }
        if conn is not None:
            return await statement.scalars(conn, params)
        async with self.db.read() as own:
            return await statement.scalars(own, params)

    async def remove(self, owner_ids: Sequence[int], status_ids: Sequence[int]) -> None:
        if not owner_ids or not status_ids:
            return
        async with self.db.write(background=True) as tx:
            for start in range(0, len(owner_ids), 900):
                await tx.conn.execute(
                    delete(home_feed).where(
                        and_(
                            home_feed.c.owner_id.in_(owner_ids[start : start + 900]),
                            home_feed.c.status_id.in_(status_ids),
                        )
                    )
                )

    async def remove_everywhere(self, status_ids: Sequence[int]) -> None:
        async with self.db.write(background=True) as tx:
            await tx.conn.execute(delete(home_feed).where(home_feed.c.status_id.in_(status_ids)))

    async def trim(self, owner_id: int) -> None:
        async with self.db.write(background=True) as tx:
            cutoff = await tx.conn.scalar(
                select(home_feed.c.status_id)
                .where(home_feed.c.owner_id == owner_id)
                .order_by(home_feed.c.status_id.desc())
                .offset(self.length)
                .limit(1)
            )
            if cutoff is not None:
                await tx.conn.execute(
                    delete(home_feed).where(
                        home_feed.c.owner_id == owner_id, home_feed.c.status_id <= cutoff
                    )
                )

    async def oversized_owners(self) -> list[int]:
        async with self.db.read() as conn:
            result = await conn.execute(
                select(home_feed.c.owner_id)
                .group_by(home_feed.c.owner_id)
                .having(func.count() > self.length)
            )
            return [row[0] for row in result]


class RedisFeeds:
    """One sorted set per owner, members zero-padded ids, all scored 0 (see module docstring)."""

    def __init__(self, redis, length: int, prefix: str = "roost:feed:") -> None:
        self.redis = redis
        self.length = length
        self.prefix = prefix
        self._push = redis.register_script(PUSH_SCRIPT)

    def key(self, owner_id: int) -> str:
        return f"{self.prefix}{owner_id}"

    async def push(self, owner_ids: Sequence[int], status_id: int) -> None:
        """One server-side script call per chunk of owners, instead of two commands per owner.

        A pipeline is built and parsed on the event loop: two commands for each of 10,000
        owners cost the loop about 200 ms of CPU a post (bench/run.py, post acknowledgement
        while fanning out). The script does the same ZADD + trim inside Redis; each call holds
        Redis for about a millisecond. (Keys span hash slots: single Redis, not Cluster.)
        """
        member = str(status_id).zfill(PAD)
        for start in range(0, len(owner_ids), PUSH_CHUNK):
            keys = [self.prefix + str(owner) for owner in owner_ids[start : start + PUSH_CHUNK]]
            await self._push(keys=keys, args=[member, self.length])

    async def add_many(self, owner_id: int, status_ids: Sequence[int]) -> None:
        if status_ids:
            key = self.key(owner_id)
            pipe = self.redis.pipeline(transaction=False)
            pipe.zadd(key, {str(s).zfill(PAD): 0 for s in status_ids})
            pipe.zremrangebyrank(key, 0, -self.length - 1)
            await pipe.execute()

    async def page(
        self,
        owner_id: int,
        *,
        max_id: int | None,
        min_id: int | None,
        limit: int,
        newest_first: bool = True,
        conn=None,
    ) -> list[int]:
        high = f"({str(max_id).zfill(PAD)}" if max_id is not None else "+"
        low = f"({str(min_id).zfill(PAD)}" if min_id is not None else "-"
        key = self.key(owner_id)
        if newest_first:
            members = await self.redis.zrevrangebylex(key, high, low, start=0, num=limit)
        else:
            members = await self.redis.zrangebylex(key, low, high, start=0, num=limit)
        return [int(m) for m in members]

    async def remove(self, owner_ids: Sequence[int], status_ids: Sequence[int]) -> None:
        if not owner_ids or not status_ids:
            return
        members = [str(s).zfill(PAD) for s in status_ids]
        pipe = self.redis.pipeline(transaction=False)
        for owner in owner_ids:
            pipe.zrem(self.key(owner), *members)
        await pipe.execute()

    async def trim(self, owner_id: int) -> None:
        await self.redis.zremrangebyrank(self.key(owner_id), 0, -self.length - 1)
