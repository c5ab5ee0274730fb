"""The demo set reached straight, on SQLite or PostgreSQL and Redis: accounts picked, tokens
minted, fan-out waited for, home feeds copied into Redis. bench/steady_state.py and
bench/scale_out.py share it: hundreds of password logins would cost hundreds of argon2 hashes and
meet the login limit.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime

from harness import SECRET
from sqlalchemy import insert, select, text

from roost.domain.ids import IdGenerator
from roost.domain.signed import mint_token, token_digest
from roost.store.db import make_engine
from roost.store.tables import accounts, home_feed
from roost.store.tables import tokens as oauth_tokens

# --- accounts and tokens -----------------------------------------------------------------------


def execute(database_url: str, statement, params) -> None:
    async def write() -> None:
        engine = make_engine(database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(statement, params)
        finally:
            await engine.dispose()

    asyncio.run(write())


def rows(database_url: str, statement) -> list:
    async def read() -> list:
        engine = make_engine(database_url)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(statement)).all())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def pick_accounts(database_url: str, readers: int, posters: int) -> tuple[list[int], list[int]]:
    """Readers: the demo accounts following the most people (full pages). Posters: a seeded
    sample of all demo accounts (people who post are not only the ones who read)."""
    demo = accounts.c.email.like("%@demo.roost")
    by_following = (
        select(accounts.c.id).where(demo).order_by(accounts.c.following_count.desc(), accounts.c.id)
    )
    everyone = [row[0] for row in rows(database_url, by_following)]
    sample = random.Random(2009).sample(everyone, min(posters, len(everyone)))
    return everyone[:readers], sample


def mint_tokens(database_url: str, account_ids: list[int]) -> dict[int, str]:
    """A read/write token for each account, written straight into ``oauth_tokens``."""
    created = dict(
        rows(
            database_url,
            select(accounts.c.id, accounts.c.created_at).where(accounts.c.id.in_(account_ids)),
        )
    )
    ids, moment = IdGenerator(1003), datetime.now(UTC)
    minted, records = {}, []
    for account_id in account_ids:
        stamp = created[account_id]
        stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        token = mint_token(SECRET.encode(), account_id, int(stamp.timestamp()))
        minted[account_id] = token
        records.append(
            {
                "id": ids.next_id(),
                "token_digest": token_digest(token),
                "account_id": account_id,
                "scopes": "read write follow",
                "created_at": moment,
            }
        )
    execute(database_url, insert(oauth_tokens), records)
    return minted


def pending_fanouts(database_url: str) -> int:
    query = text("SELECT count(*) FROM statuses WHERE fanout_state = 'pending'")
    return rows(database_url, query)[0][0]


def settle(database_url: str, seconds: float = 60.0) -> float:
    """Wait until no fan-out is pending from the last row; seconds waited."""
    started = time.monotonic()
    while pending_fanouts(database_url) and time.monotonic() - started < seconds:
        time.sleep(0.2)
    return time.monotonic() - started


# --- Redis feeds -------------------------------------------------------------------------------


def claim_redis(redis_url: str) -> None:
    """The bench empties its Redis database afterwards, so it must start empty (ours alone)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = client.dbsize()
    finally:
        client.close()
    if keys:
        raise SystemExit(
            f"{redis_url} holds {keys} keys; this benchmark empties its Redis database "
            "afterwards, so give it an empty one (--redis-url redis://127.0.0.1:6379/N)"
        )


def empty_redis(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


def fill_redis_feeds(database_url: str, redis_url: str, length: int = 800) -> int:
    """Copy the home feeds written in SQL (by `roost demo`) into Redis, with the site's own
    feed store, so that Redis-fed readers start with the same pages; feed entries copied."""
    import redis.asyncio as aioredis

    from roost.store.feeds import RedisFeeds

    feed = rows(database_url, select(home_feed.c.owner_id, home_feed.c.status_id))
    by_owner: dict[int, list[int]] = {}
    for owner, status in feed:
        by_owner.setdefault(owner, []).append(status)

    async def push() -> None:
        client = aioredis.from_url(redis_url)
        try:
            feeds = RedisFeeds(client, length)
            for owner, ids in by_owner.items():
                await feeds.add_many(owner, ids)
        finally:
            await client.aclose()

    asyncio.run(push())
    return len(feed)
