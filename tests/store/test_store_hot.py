"""Hot reads run on the driver (roost.store.hot) answer exactly as SQLAlchemy does, on SQLite and
on the real PostgreSQL: the same rows, in the same order, with the same Python types."""

from __future__ import annotations

from sqlalchemy import select

from roost.domain.ids import MAX_ID
from roost.services import accounts, hydrate, posts, social, threads, timelines
from roost.store import feeds
from roost.store.hot import Hot
from roost.store.tables import statuses


async def _user(ctx, name: str) -> dict:
    return await accounts.register(ctx, name, f"{name}@roost.test", "password123")


async def _world(ctx) -> dict:
    """Three people, posts with mentions, tags, a repost, a reply, favourites and a block."""
    alice, bob, carol = [await _user(ctx, n) for n in ("alice", "bob", "carol")]
    async with ctx.db.write() as tx:
        await social.follow(ctx, tx, bob["id"], alice["id"])
    await ctx.fanout.drain()
    ids = []
    for body in ("hello @bob #roost", "second #roost #birds", "quiet one"):
        async with ctx.db.write() as tx:
            ids.append(await posts.create(ctx, tx, alice, body))
    async with ctx.db.write() as tx:
        ids.append(await posts.create(ctx, tx, bob, "a reply @alice", in_reply_to_id=ids[0]))
    async with ctx.db.write() as tx:
        ids.append(await posts.reblog(ctx, tx, bob, ids[1]))
    async with ctx.db.write() as tx:
        await posts.favourite(ctx, tx, bob["id"], ids[0])
        await social.block(ctx, tx, carol["id"], bob["id"], True)
    await ctx.fanout.drain()
    return {"alice": alice, "bob": bob, "carol": carol, "ids": ids}


def _cases(world: dict) -> list[tuple[Hot, dict]]:
    ids, bob, alice = world["ids"], world["bob"], world["alice"]
    authors = [alice["id"], bob["id"]]
    everyone = [*authors, world["carol"]["id"]]
    about_bob = {"authors": everyone, "viewer": bob["id"]}
    window = {"below": MAX_ID, "above": 0, "limit": 20}
    asked = [*ids, 12345]  # and one that does not exist
    by_alice = {**window, "account": alice["id"], "allowed": ["public", "unlisted", "private"]}
    followed_by_bob = {**by_alice, "allowed": ["public", "unlisted"], "viewer": bob["id"]}
    return [
        (hydrate.STATUS_ROWS, {"ids": asked}),
        (hydrate.STATUS_ROWS, {"ids": []}),
        (hydrate.ABOUT_POSTS, {"ids": asked}),
        (hydrate.CARD_ROWS, {"ids": asked}),
        (hydrate.ABOUT_VIEWER, {"ids": asked, "authors": authors, "viewer": bob["id"]}),
        (hydrate.ABOUT_VIEWER, {"ids": asked, "authors": everyone, "viewer": bob["id"]}),
        (hydrate.ABOUT_VIEWER_SPAN, {"low": min(ids), "high": max(ids), **about_bob}),
        (hydrate.ABOUT_VIEWER_SPAN, {"low": 0, "high": 1, **about_bob}),
        (hydrate.FOLLOWED_AMONG, {"authors": everyone, "viewer": bob["id"]}),
        (accounts.ACCOUNTS_BY_ID, {"ids": [*authors, 999]}),
        (accounts.ACCOUNT_BY_ID, {"id": alice["id"]}),
        (feeds.FEED_NEWEST, {"owner": bob["id"], **window}),
        (feeds.FEED_OLDEST, {"owner": bob["id"], **window, "above": ids[0]}),
        (social.HIDDEN, {"viewer": world["carol"]["id"]}),
        (timelines.HOME_READER, {"viewer": bob["id"], "threshold": 0}),
        (timelines.HOME_READER, {"viewer": world["carol"]["id"], "threshold": 0}),
        (timelines.PUBLIC.newest, window),
        (timelines.PUBLIC_SCREENED.newest, {**window, "hidden": [bob["id"]]}),
        (timelines.TAG.oldest, {**window, "name": "roost"}),
        (timelines.AUTHORS_OF, {"ids": asked}),
        (timelines.BY_ACCOUNT[False, False].newest, {**by_alice, "viewer": 0}),
        (timelines.BY_ACCOUNT[True, True].oldest, {**by_alice, "viewer": 0}),
        (timelines.BY_ACCOUNT[False, True].newest, followed_by_bob),
        (posts.STATUS_BY_ID, {"id": ids[0]}),
        (threads.ANCESTRY, {"root": ids[3]}),
        (threads.ANCESTRY, {"root": 12345}),
        (threads.REPLIES, {"root": ids[0]}),
        (posts.SUSPENDED_AMONG, {"ids": authors}),
        (posts._MENTIONING_VIEWER, {"ids": asked, "viewer": bob["id"]}),
        (social.FOLLOWS, {"follower": bob["id"], "target": alice["id"]}),
        (social._STANDING[True], {"viewer": bob["id"], "others": authors}),
        (social._STANDING[False], {"viewer": world["carol"]["id"], "others": authors}),
    ]


async def test_hot_reads_answer_as_sqlalchemy_does(ctx):
    world = await _world(ctx)
    seen = 0
    async with ctx.db.read() as conn:
        for hot, params in _cases(world):
            expected = [tuple(row) for row in await conn.execute(hot.statement, params)]
            got = await hot.rows(conn, params)
            if not getattr(hot.statement, "_order_by_clauses", ()):  # no order asked: any
                got, expected = sorted(got), sorted(expected)
            assert got == expected, hot.statement
            seen += len(got)
            assert [[type(v) for v in row] for row in got] == [
                [type(v) for v in row] for row in expected
            ]
    assert seen > 20  # the cases found rows: an empty answer on both sides proves nothing


async def test_hot_rows_come_back_as_mappings_and_scalars(ctx):
    world = await _world(ctx)
    async with ctx.db.read() as conn:
        rows = await hydrate.STATUS_ROWS.mappings(conn, {"ids": world["ids"][:1]})
        assert [r["id"] for r in rows] == world["ids"][:1]
        assert rows[0]["created_at"].tzinfo is not None  # an aware UTC instant, as SQLAlchemy's
        assert rows[0]["sensitive"] is False
        window = {"owner": world["bob"]["id"], "below": MAX_ID, "above": 0, "limit": 2}
        assert await feeds.FEED_NEWEST.scalars(conn, window) == sorted(world["ids"])[-2:][::-1]


async def test_a_read_of_hot_statements_takes_nothing_from_the_pool_and_sees_each_commit(ctx):
    """On SQLite a read runs hot statements on its own connection in autocommit: no pooled
    connection is checked out for them, and no snapshot is held between statements, so a
    commit made meanwhile is seen by the next one (PostgreSQL takes one from the pool)."""
    world = await _world(ctx)
    alice, bob = world["alice"], world["bob"]
    window = {"owner": bob["id"], "below": MAX_ID, "above": 0, "limit": 50}
    pool = ctx.db.engine.sync_engine.pool
    async with ctx.db.read() as conn:
        before = await feeds.FEED_NEWEST.scalars(conn, window)
        if ctx.db.is_sqlite:
            assert pool.checkedout() == 0
        async with ctx.db.write() as tx:
            newer = await posts.create(ctx, tx, alice, "after the read began")
        await ctx.fanout.drain()
        assert await feeds.FEED_NEWEST.scalars(conn, window) == [newer, *before]
        # anything else a service asks for takes a connection as before, beside the hot ones
        assert await conn.scalar(select(statuses.c.id).where(statuses.c.id == newer)) == newer
        assert pool.checkedout() == 1
    assert pool.checkedout() == 0


async def test_the_poll_reads_answer_as_sqlalchemy_does(ctx):
    """The two statements a page with polls adds (roost.services.tallies)."""
    from roost.domain.polls import Draft
    from roost.services import polls, tallies

    alice, bob = await _user(ctx, "alice"), await _user(ctx, "bob")
    async with ctx.db.write() as tx:
        poll_id = await posts.create(
            ctx, tx, alice, "which?", poll=Draft(("a", "b", "c"), 300, True, False)
        )
    async with ctx.db.write() as tx:
        await polls.vote(ctx, tx, poll_id, bob["id"], [0, 2])
    asked = {"ids": [poll_id, 12345], "viewer": bob["id"]}
    async with ctx.db.read() as conn:
        for hot in (tallies.POLL_ROWS, tallies.POLL_COUNTS):
            expected = sorted(tuple(row) for row in await conn.execute(hot.statement, asked))
            got = sorted(await hot.rows(conn, asked))
            assert got == expected and got, hot.statement
            assert [[type(v) for v in row] for row in got] == [
                [type(v) for v in row] for row in expected
            ]
