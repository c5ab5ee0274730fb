"""The micro-blogging core on SQLite and on the real PostgreSQL: posts, follows, timelines."""

from __future__ import annotations

import pytest

from roost.domain.errors import Conflict, Forbidden, Invalid, NotFound
from roost.services import accounts, notifications, posts, search, social, threads, timelines
from roost.services.timelines import Page


async def make_user(ctx, name: str):
    return await accounts.register(ctx, name, f"{name}@roost.test", "password123")


async def post(ctx, author, body: str, **kwargs) -> int:
    async with ctx.db.write() as tx:
        status_id = await posts.create(ctx, tx, author, body, **kwargs)
    await ctx.fanout.drain()
    return status_id


async def follow(ctx, a, b) -> None:
    async with ctx.db.write() as tx:
        await social.follow(ctx, tx, a["id"], b["id"])
    await ctx.fanout.drain()


async def home(ctx, account, **page) -> list[int]:
    async with ctx.db.read() as conn:
        return await timelines.home(ctx, account["id"], Page(**page), conn)


async def test_registration_rules(ctx):
    await make_user(ctx, "alice")
    with pytest.raises(Conflict):
        await make_user(ctx, "ALICE")
    with pytest.raises(Invalid):
        await make_user(ctx, "not valid")
    assert (await accounts.authenticate(ctx.db, "alice@roost.test", "password123"))["id"]
    assert await accounts.authenticate(ctx.db, "Alice", "password123") is not None
    assert await accounts.authenticate(ctx.db, "alice", "wrong-password") is None
    assert await accounts.authenticate(ctx.db, "nobody", "password123") is None


async def test_a_hash_made_with_older_parameters_is_replaced_at_sign_in(ctx):
    """Issue 12: hashes from the RFC 9106 profile (64 MiB, 3 passes) cost 6x today's check, so a
    known account answered slower than an unknown one; a sign-in brings it to today's."""
    from argon2 import PasswordHasher
    from sqlalchemy import select, update

    from roost.domain import accounts as rules
    from roost.store.tables import accounts as table

    alice = await make_user(ctx, "alice")
    old = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4).hash("password123")
    async with ctx.db.write() as tx:
        await tx.conn.execute(update(table).values(password_hash=old))
    assert rules.needs_rehash(old)
    assert await accounts.authenticate(ctx.db, "alice", "wrong-password") is None
    async with ctx.db.read() as conn:
        kept = await conn.scalar(select(table.c.password_hash).where(table.c.id == alice["id"]))
    assert kept == old  # a wrong password changes nothing
    assert await accounts.authenticate(ctx.db, "alice", "password123") is not None
    async with ctx.db.read() as conn:
        new = await conn.scalar(select(table.c.password_hash).where(table.c.id == alice["id"]))
    assert new != old and new.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert not rules.needs_rehash(new)
    assert await accounts.authenticate(ctx.db, "alice", "password123") is not None


async def test_post_reaches_followers_home_and_counts(ctx):
    alice, bob = await make_user(ctx, "alice"), await make_user(ctx, "bob")
    await follow(ctx, bob, alice)
    status_id = await post(ctx, alice, "hello #Roost world")
    assert await home(ctx, bob) == [status_id]
    assert await home(ctx, alice) == [status_id]
    async with ctx.db.read() as conn:
        assert (await accounts.get(conn, alice["id"]))["statuses_count"] == 1
        assert (await accounts.get(conn, alice["id"]))["followers_count"] == 1
        assert await timelines.tag(conn, "roost", Page()) == [status_id]
        assert await timelines.public(conn, Page()) == [status_id]


async def test_new_follow_backfills_and_unfollow_removes(ctx):
    alice, bob = await make_user(ctx, "alice"), await make_user(ctx, "bob")
    earlier = await post(ctx, alice, "before the follow")
    await follow(ctx, bob, alice)
    assert await home(ctx, bob) == [earlier]
    async with ctx.db.write() as tx:
        await social.unfollow(ctx, tx, bob["id"], alice["id"])
    await ctx.fanout.drain()
    assert await home(ctx, bob) == []


async def test_deleted_post_leaves_feeds(ctx):
    alice, bob = await make_user(ctx, "alice"), await make_user(ctx, "bob")
    await follow(ctx, bob, alice)
    status_id = await post(ctx, alice, "oops")
    async with ctx.db.write() as tx:
        with pytest.raises(Forbidden):
            await posts.delete_status(ctx, tx, status_id, bob["id"])
    async with ctx.db.write() as tx:
        await posts.delete_status(ctx, tx, status_id, alice["id"])
    await ctx.fanout.drain()
    assert await home(ctx, bob) == []
    async with ctx.db.read() as conn:
        with pytest.raises(NotFound):
            await posts.get_visible(conn, status_id, bob["id"])


async def test_big_authors_are_merged_at_read_time(ctx):
    ctx.settings = ctx.settings.replace(fanout_threshold=0)  # everyone counts as big
    alice, bob = await make_user(ctx, "alice"), await make_user(ctx, "bob")
    await follow(ctx, bob, alice)
    status_id = await post(ctx, alice, "from a big account")
    assert await ctx.feeds.page(bob["id"], max_id=None, min_id=None, limit=20) == []
    assert await home(ctx, bob) == [status_id]


async def test_cursor_pagination(ctx):
    alice = await make_user(ctx, "alice")
    ids = [await post(ctx, alice, f"post {n}") for n in range(5)]
    newest_first = list(reversed(ids))
    assert await home(ctx, alice, limit=2) == newest_first[:2]
    assert await home(ctx, alice, limit=2, max_id=newest_first[1]) == newest_first[2:4]
    assert await home(ctx, alice, limit=2, min_id=ids[0]) == [ids[2], ids[1]]
    assert await home(ctx, alice, limit=10, since_id=ids[2]) == [ids[4], ids[3]]


async def test_replies_mentions_notifications_and_thread(ctx):
    alice, bob = await make_user(ctx, "alice"), await make_user(ctx, "bob")
    root = await post(ctx, alice, "a question for @bob")
    reply = await post(ctx, bob, "an answer", in_reply_to_id=root)
    deeper = await post(ctx, alice, "thanks", in_reply_to_id=reply)
    async with ctx.db.read() as conn:
        bob_notes = await notifications.page(conn, bob["id"])
        alice_notes = await notifications.page(conn, alice["id"])
        ancestors, descendants = await threads.context(conn, reply, None)
    assert [n["type"] for n in bob_notes] == ["mention", "mention"]
    assert [n["status_id"] for n in alice_notes] == [reply]
    assert ancestors == [root] and descendants == [deeper]


async def test_favourite_and_reblog_notify_once(ctx):
    alice, bob = await make_user(ctx, "alice"), await make_user(ctx, "bob")
    status_id = await post(ctx, alice, "like me")
    for _ in range(2):
        async with ctx.db.write() as tx:
            await posts.favourite(ctx, tx, bob["id"], status_id)
    async with ctx.db.write() as tx:
        reblog_id = await posts.reblog(ctx, tx, bob, status_id)
    await ctx.fanout.drain()
    async with ctx.db.read() as conn:
        row = await posts.get_row(conn, status_id)
        kinds = [n["type"] for n in await notifications.page(conn, alice["id"])]
    assert row["favourites_count"] == 1 and row["reblogs_count"] == 1
    assert sorted(kinds) == ["favourite", "reblog"]
    assert reblog_id in await home(ctx, bob)


async def test_blocks_hide_posts_and_stop_follows(ctx):
    alice, bob = await make_user(ctx, "alice"), await make_user(ctx, "bob")
    await follow(ctx, bob, alice)
    async with ctx.db.write() as tx:
        await social.block(ctx, tx, alice["id"], bob["id"], True)
    await ctx.fanout.drain()
    status_id = await post(ctx, alice, "not for bob")
    assert status_id not in await home(ctx, bob)
    async with ctx.db.read() as conn:
        with pytest.raises(NotFound):
            await posts.get_visible(conn, status_id, bob["id"])
    async with ctx.db.write() as tx:
        with pytest.raises(Forbidden):
            await social.follow(ctx, tx, bob["id"], alice["id"])


async def test_followers_only_posts(ctx):
    alice, bob, eve = [await make_user(ctx, n) for n in ("alice", "bob", "eve")]
    await follow(ctx, bob, alice)
    status_id = await post(ctx, alice, "friends only", visibility="private")
    assert status_id in await home(ctx, bob)
    async with ctx.db.read() as conn:
        assert await timelines.public(conn, Page()) == []
        await posts.get_visible(conn, status_id, bob["id"])
        with pytest.raises(NotFound):
            await posts.get_visible(conn, status_id, eve["id"])


async def test_idempotency_key_returns_the_same_post(ctx):
    alice = await make_user(ctx, "alice")
    first = await post(ctx, alice, "once", idempotency_key="k1")
    second = await post(ctx, alice, "once", idempotency_key="k1")
    assert first == second
    async with ctx.db.read() as conn:
        assert (await accounts.get(conn, alice["id"]))["statuses_count"] == 1


async def test_bad_input_is_refused_cleanly(ctx):
    alice = await make_user(ctx, "alice")
    for body, error in (("", Invalid), ("x" * 501, Invalid)):
        with pytest.raises(error):
            await post(ctx, alice, body)
    with pytest.raises(NotFound):
        await post(ctx, alice, "reply to nothing", in_reply_to_id=123456789)
    async with ctx.db.read() as conn:
        assert (await accounts.get(conn, alice["id"]))["statuses_count"] == 0


async def test_search_finds_accounts_tags_and_posts(ctx):
    alice = await make_user(ctx, "alice")
    await make_user(ctx, "alicia")
    status_id = await post(ctx, alice, "Spotted a kingfisher by the river #birds")
    await post(ctx, alice, "nothing to see")
    async with ctx.db.read() as conn:
        found = [r["username"] for r in await accounts.search(conn, "ali", 10)]
        assert found[:2] == ["alice", "alicia"] or set(found) == {"alice", "alicia"}
        assert next(r["username"] for r in await accounts.search(conn, "alice", 10)) == "alice"
        assert [t["name"] for t in await search.hashtags(conn, "bir", 10)] == ["birds"]
        assert await search.statuses_matching(conn, "KINGFISHER river", 10) == [status_id]
        assert await search.statuses_matching(conn, "%' OR 1=1 --", 10) == []


async def test_locked_accounts_approve_followers(ctx):
    alice, bob, eve = [await make_user(ctx, n) for n in ("alice", "bob", "eve")]
    async with ctx.db.write() as tx:
        await accounts.update_profile(ctx, tx, alice["id"], locked=True)
    await follow(ctx, bob, alice)
    await follow(ctx, eve, alice)
    private = await post(ctx, alice, "for approved followers", visibility="private")
    async with ctx.db.read() as conn:
        assert set(await social.pending_requests(conn, alice["id"])) == {bob["id"], eve["id"]}
        assert not await social.follows(conn, bob["id"], alice["id"])
    async with ctx.db.write() as tx:
        await social.answer_request(ctx, tx, alice["id"], bob["id"], accept=True)
        await social.answer_request(ctx, tx, alice["id"], eve["id"], accept=False)
    await ctx.fanout.drain()
    async with ctx.db.read() as conn:
        assert await social.follows(conn, bob["id"], alice["id"])
        assert await social.pending_requests(conn, alice["id"]) == []
        assert (await accounts.get(conn, alice["id"]))["followers_count"] == 1
    assert private in await home(ctx, bob)
    assert private not in await home(ctx, eve)
    async with ctx.db.write() as tx:
        with pytest.raises(Invalid):
            await social.answer_request(ctx, tx, alice["id"], eve["id"], accept=True)


async def test_suspended_authors_vanish_from_public_lists(ctx):
    alice, bob = await make_user(ctx, "alice"), await make_user(ctx, "bob")
    kept = await post(ctx, bob, "still here #news")
    await post(ctx, alice, "soon gone #news")
    async with ctx.db.write() as tx:
        await accounts.set_suspended(tx, "alice", True)
    async with ctx.db.read() as conn:
        assert await timelines.public(conn, Page()) == [kept]
        assert await timelines.tag(conn, "news", Page()) == [kept]
        assert set(await accounts.get_many(conn, {alice["id"], bob["id"]})) == {bob["id"]}


async def test_nul_bytes_and_control_characters_never_reach_the_database(ctx):
    alice = await make_user(ctx, "alice")
    status_id = await post(ctx, alice, "null\x00byte and bell\x07")
    async with ctx.db.read() as conn:
        assert (await posts.get_row(conn, status_id))["text"] == "nullbyte and bell"
        assert await accounts.search(conn, "\x00", 5) == []
        assert await search.hashtags(conn, "\x00ab", 5) == []
        assert await search.statuses_matching(conn, "null\x00byte", 5) == [status_id]
    assert await accounts.authenticate(ctx.db, "ali\x00ce", "password123") is not None


async def test_thread_visibility_is_checked_in_batches(ctx):
    alice, bob, eve = [await make_user(ctx, n) for n in ("alice", "bob", "eve")]
    await follow(ctx, bob, alice)
    root = await post(ctx, alice, "root")
    public_reply = await post(ctx, bob, "public reply", in_reply_to_id=root)
    private_reply = await post(
        ctx, alice, "followers only", in_reply_to_id=root, visibility="private"
    )
    async with ctx.db.write() as tx:
        await social.block(ctx, tx, eve["id"], bob["id"], True)
    async with ctx.db.read() as conn:
        assert (await threads.context(conn, root, bob["id"]))[1] == [public_reply, private_reply]
        assert (await threads.context(conn, root, eve["id"]))[1] == []
        assert (await threads.context(conn, root, None))[1] == [public_reply]


async def test_a_thread_hides_what_hangs_under_a_post_one_may_not_see(ctx):
    """Levels of replies, each oldest first; a reply the viewer may not see hides everything
    under it, and the line up stops at the first post they may not see."""
    alice, bob, carol = [await make_user(ctx, n) for n in ("alice", "bob", "carol")]
    await follow(ctx, bob, alice)
    root = await post(ctx, alice, "root")
    first = await post(ctx, bob, "first", in_reply_to_id=root)
    hidden = await post(ctx, alice, "followers only", in_reply_to_id=first, visibility="private")
    under = await post(ctx, bob, "under the hidden one", in_reply_to_id=hidden)
    second = await post(ctx, carol, "second", in_reply_to_id=root)
    beside = await post(ctx, carol, "beside", in_reply_to_id=first)
    async with ctx.db.read() as conn:
        as_bob = await threads.context(conn, root, bob["id"])
        as_carol = await threads.context(conn, root, carol["id"])
        line_for_bob = await threads.context(conn, under, bob["id"])
        line_for_carol = await threads.context(conn, under, carol["id"])
        with pytest.raises(NotFound):
            await threads.context(conn, hidden, carol["id"])
        with pytest.raises(NotFound):
            await threads.context(conn, 12345, None)
    assert as_bob == ([], [first, second, hidden, beside, under])
    assert as_carol == ([], [first, second, beside])
    assert line_for_bob == ([root, first, hidden], [])
    assert line_for_carol == ([], [])


async def test_search_follows_an_edit_and_a_deletion_after_it(ctx):
    """SQLite's full-text index had no trigger for edits: the old words stayed findable, the
    new ones were not, and deleting an edited post told the contentless index to forget words
    it never had, which corrupts it ("database disk image is malformed" on the next search;
    seen in a long schemathesis run)."""
    alice = await make_user(ctx, "alice")
    status_id = await post(ctx, alice, "the door code is 4711")
    async with ctx.db.write() as tx:
        await posts.edit(ctx, tx, status_id, alice["id"], "nothing to see here")
    async with ctx.db.read() as conn:
        assert await search.statuses_matching(conn, "4711", 5) == []
        assert await search.statuses_matching(conn, "nothing", 5) == [status_id]
    async with ctx.db.write() as tx:
        await posts.delete_status(ctx, tx, status_id, alice["id"])
    other = await post(ctx, alice, "nothing more")
    async with ctx.db.read() as conn:
        assert await search.statuses_matching(conn, "nothing", 5) == [other]
