"""The shelf (roost.services.shelf): what every viewer sees alike is kept between reads, and
nothing on it outlives a write, leaks one viewer's part to another, or hides a post from the
visibility rule. On SQLite and on the real PostgreSQL."""

from __future__ import annotations

import orjson

from roost.present import entities
from roost.services import accounts, hydrate, pins, posts, social
from roost.services.context import shelf
from roost.store.db import Database
from tests.services.test_services_core import make_user, post


async def _shown(ctx, ids: list[int], viewer_id: int | None) -> list[dict]:
    async with ctx.db.read() as conn:
        return await entities.statuses_by_id(ctx, conn, ids, viewer_id, shared=True)


async def test_a_second_read_comes_from_the_shelf_and_renders_the_same(ctx):
    alice = await make_user(ctx, "alice")
    ids = [await post(ctx, alice, f"post {n} #roost") for n in range(3)]
    first = await _shown(ctx, ids, alice["id"])
    kept = shelf(ctx)
    assert set(ids) <= set(kept.posts) and ("s", ids[0]) in kept.rendered
    async with ctx.db.read() as conn:  # the same page without the shelf: the same entities
        fresh = await entities.statuses_by_id(ctx, conn, ids, alice["id"])
    assert await _shown(ctx, ids, alice["id"]) == first == fresh


async def test_serialised_pieces_make_the_bytes_the_entities_make(ctx):
    """The API's pages are joined from JSON pieces kept on the shelf, with each viewer's flags
    put in; they say byte for byte what encoding the entities says, for every viewer, for
    reposts (whose ``reblogged`` is the original's), for text that spells the keys the pieces
    are cut at, first rendered and then from the shelf."""
    alice, bob, carol = [await make_user(ctx, n) for n in ("alice", "bob", "carol")]
    tricky = 'x "reblog":null "favourited":false,"reblogged":false,"bookmarked":false #roost'
    first = await post(ctx, alice, tricky, spoiler_text='"reblog":null')
    second = await post(ctx, alice, "plain @bob")
    async with ctx.db.write() as tx:
        repost = await posts.reblog(ctx, tx, bob, first)
        await posts.favourite(ctx, tx, bob["id"], first)
        await posts.bookmark(ctx, tx, bob["id"], second, True)
        await posts.favourite(ctx, tx, carol["id"], repost)
    await ctx.fanout.drain()
    ids = [repost, second, first]
    for _ in range(2):  # rendered, then from the shelf
        for viewer in (alice["id"], bob["id"], carol["id"], None):
            async with ctx.db.read() as conn:
                joined = await entities.statuses_json_by_id(ctx, conn, ids, viewer, shared=True)
                plain = await entities.statuses_by_id(ctx, conn, ids, viewer, shared=True)
            assert [i for i, _ in joined] == ids
            assert [text for _, text in joined] == [orjson.dumps(e) for e in plain]
            assert entities.json_array(joined) == orjson.dumps(plain)
    async with ctx.db.read() as conn:
        bobs = orjson.loads(
            entities.json_array(await entities.statuses_json_by_id(ctx, conn, ids, bob["id"]))
        )
    assert [(s["favourited"], s["reblogged"], s["bookmarked"]) for s in bobs] == [
        (False, True, False),
        (False, False, True),
        (True, True, False),
    ]
    assert bobs[0]["reblog"]["favourited"] is True and bobs[0]["reblog"]["content"].count("reblog")


async def test_pinned_and_muted_are_cut_in_like_the_other_flags(ctx):
    """``pinned`` and ``muted`` are the viewer's too: the joined pieces say byte for byte what
    the entities say, for the author who pinned, the reader who muted and a stranger."""
    alice, bob = [await make_user(ctx, n) for n in ("alice", "bob")]
    first = await post(ctx, alice, 'a thread "muted":false,"pinned":false')
    reply = await post(ctx, bob, "@alice a reply", in_reply_to_id=first)
    other = await post(ctx, alice, "another thread")
    async with ctx.db.write() as tx:
        await pins.pin(ctx, tx, alice["id"], first)
        await pins.mute(ctx, tx, bob["id"], reply, True)
    ids = [other, reply, first]
    seen = {}
    for _ in range(2):  # rendered, then from the shelf
        for viewer in (alice["id"], bob["id"], None):
            async with ctx.db.read() as conn:
                joined = await entities.statuses_json_by_id(ctx, conn, ids, viewer, shared=True)
                plain = await entities.statuses_by_id(ctx, conn, ids, viewer, shared=True)
            assert [text for _, text in joined] == [orjson.dumps(e) for e in plain]
            seen[viewer] = [(s["pinned"], s["muted"]) for s in plain]
    assert seen[alice["id"]] == [(False, False), (False, False), (True, False)]
    assert seen[bob["id"]] == [(False, False), (False, True), (False, True)]
    assert seen[None] == [(False, False)] * 3


async def test_every_change_is_seen_on_the_next_read(ctx):
    alice, bob = await make_user(ctx, "alice"), await make_user(ctx, "bob")
    status_id = await post(ctx, alice, "before")
    assert (await _shown(ctx, [status_id], bob["id"]))[0]["favourites_count"] == 0
    async with ctx.db.write() as tx:
        await posts.favourite(ctx, tx, bob["id"], status_id)
    seen = (await _shown(ctx, [status_id], bob["id"]))[0]
    assert seen["favourites_count"] == 1 and seen["favourited"] is True
    async with ctx.db.write() as tx:
        await posts.edit(ctx, tx, status_id, alice["id"], "after")
    assert "after" in (await _shown(ctx, [status_id], bob["id"]))[0]["content"]
    async with ctx.db.write() as tx:
        await accounts.update_profile(ctx, tx, alice["id"], display_name="Alice A.")
    assert (await _shown(ctx, [status_id], None))[0]["account"]["display_name"] == "Alice A."
    async with ctx.db.write() as tx:
        await posts.delete_status(ctx, tx, status_id, alice["id"])
    assert await _shown(ctx, [status_id], bob["id"]) == []


async def test_one_viewers_part_never_reaches_another(ctx):
    alice, bob, carol = [await make_user(ctx, n) for n in ("alice", "bob", "carol")]
    async with ctx.db.write() as tx:
        await social.follow(ctx, tx, bob["id"], alice["id"])
    await ctx.fanout.drain()
    public = await post(ctx, alice, "for everyone")
    private = await post(ctx, alice, "followers only", visibility="private")
    async with ctx.db.write() as tx:
        await posts.favourite(ctx, tx, bob["id"], public)
    as_bob = await _shown(ctx, [public, private], bob["id"])
    assert [s["favourited"] for s in as_bob] == [True, False]
    assert {int(s["id"]) for s in as_bob} == {public, private}
    # Carol reads the same page off the shelf Bob filled: her own flags, and only what she
    # may see (the visibility rule runs on every read).
    as_carol = await _shown(ctx, [public, private], carol["id"])
    assert [(int(s["id"]), s["favourited"]) for s in as_carol] == [(public, False)]
    assert await _shown(ctx, [private], None) == []


async def test_unchanged_posts_survive_other_peoples_commits(ctx):
    """A commit makes every entry unsure, not stale: one query checks them, and the unchanged
    ones (rows, rendered entities) are used again instead of loaded and rendered again."""
    alice, bob = await make_user(ctx, "alice"), await make_user(ctx, "bob")
    ids = [await post(ctx, alice, f"post {n}") for n in range(3)]
    first = await _shown(ctx, ids, bob["id"])
    kept = shelf(ctx)
    rows = [kept.posts[i].value[0] for i in ids]
    checked, reloaded = kept.checked, kept.reloaded
    await post(ctx, bob, "someone else posts: a commit")
    async with ctx.db.write() as tx:
        await posts.favourite(ctx, tx, bob["id"], ids[1])  # and one of the page changes
    again = await _shown(ctx, ids, bob["id"])
    assert kept.checked - checked == 2 and kept.reloaded - reloaded == 1
    assert [kept.posts[i].value[0] is row for i, row in zip(ids, rows, strict=True)] == [
        True,
        False,
        True,
    ]
    assert again[1]["favourites_count"] == 1 and again[1]["favourited"] is True
    assert [again[0], again[2]] == [first[0], first[2]]


async def test_a_read_racing_a_write_is_checked_by_the_next(ctx):
    alice = await make_user(ctx, "alice")
    status_id = await post(ctx, alice, "racing")
    kept = shelf(ctx)
    async with ctx.db.read() as conn:
        await hydrate.posts(conn, [status_id], None, shelf=kept)
    assert kept.trusted(kept.posts[status_id])
    kept.generation.bump()  # a commit lands while a read that began before it is running
    assert not kept.trusted(kept.posts[status_id])
    checked = kept.checked
    async with ctx.db.read() as conn:
        await hydrate.posts(conn, [status_id], None, shelf=kept)
    assert kept.checked == checked + 1 and kept.trusted(kept.posts[status_id])


async def test_a_suspended_author_leaves_and_comes_back(ctx):
    alice, bob = await make_user(ctx, "alice"), await make_user(ctx, "bob")
    status_id = await post(ctx, alice, "still here?")
    assert len(await _shown(ctx, [status_id], bob["id"])) == 1
    async with ctx.db.write() as tx:
        await accounts.set_suspended(tx, "alice", True)
    assert await _shown(ctx, [status_id], bob["id"]) == []
    assert await _shown(ctx, [status_id], bob["id"]) == []  # from the shelf: still gone
    async with ctx.db.write() as tx:
        await accounts.set_suspended(tx, "alice", False)
    assert [s["id"] for s in await _shown(ctx, [status_id], bob["id"])] == [str(status_id)]


def test_every_column_of_posts_and_accounts_has_a_reason_to_be_trusted():
    """What a check reads must catch every change to what is shown: each column is checked,
    follows a checked one, never changes, or is not shown. A new column needs a decision."""
    from roost.services import shelf as rules
    from roost.store.tables import accounts as account_table
    from roost.store.tables import statuses as status_table

    for table, groups in (
        (
            status_table,
            [
                rules.STATUS_SEEN,
                rules.STATUS_FOLLOWS_EDIT,
                rules.STATUS_FIXED,
                rules.STATUS_NOT_SHOWN,
            ],
        ),
        (
            account_table,
            [
                rules.ACCOUNT_SEEN,
                rules.ACCOUNT_FOLLOWS_UPDATE,
                rules.ACCOUNT_FIXED,
                rules.ACCOUNT_NOT_SHOWN,
            ],
        ),
    ):
        named = [name for group in groups for name in group]
        assert sorted(named) == sorted(table.c.keys()), table.name


async def test_another_process_writes_are_seen_within_the_ttl(ctx, monkeypatch):
    """A second process's commits do not move this one's generation: the shelf's ttl (the
    response cache's bound) is what limits how long its entries can be stale."""
    clock = [1000.0]
    monkeypatch.setattr("roost.services.shelf.time.monotonic", lambda: clock[0])
    alice = await make_user(ctx, "alice")
    status_id = await post(ctx, alice, "original text")
    kept = shelf(ctx)
    await _shown(ctx, [status_id], None)
    other = Database(ctx.settings.database_url)  # another process's engine: not watched here
    try:
        from sqlalchemy import update

        from roost.store.tables import statuses

        async with other.write() as tx:
            await tx.conn.execute(
                update(statuses).where(statuses.c.id == status_id).values(favourites_count=7)
            )
    finally:
        await other.close()
    clock[0] += kept.ttl - 0.1
    assert (await _shown(ctx, [status_id], None))[0]["favourites_count"] == 0  # stale, within
    clock[0] += 0.2
    assert (await _shown(ctx, [status_id], None))[0]["favourites_count"] == 7


async def test_a_post_with_a_poll_is_shown_per_viewer_and_never_stale(ctx, monkeypatch):
    """A poll's counts, ``expired`` and the viewer's votes change without an edit: such a post
    is encoded from its dictionary on every read (byte for byte what the entities say), for
    the post and a repost of it, and a vote is seen on the next read off the shelf."""
    from datetime import timedelta

    from sqlalchemy import update

    from roost.domain.polls import Draft
    from roost.services import polls
    from roost.services.context import now
    from roost.store.tables import polls as poll_table

    alice, bob = [await make_user(ctx, n) for n in ("alice", "bob")]
    draft = Draft(("yes", "no"), 300, False, False)
    asked = await post(ctx, alice, 'a poll "reblog":null', poll=draft)
    plain = await post(ctx, alice, "no poll")
    async with ctx.db.write() as tx:
        repost = await posts.reblog(ctx, tx, bob, asked)
    ids = [repost, plain, asked]

    async def both(viewer):
        async with ctx.db.read() as conn:
            joined = await entities.statuses_json_by_id(ctx, conn, ids, viewer, shared=True)
            shown = await entities.statuses_by_id(ctx, conn, ids, viewer, shared=True)
        assert [text for _, text in joined] == [orjson.dumps(e) for e in shown]
        return shown

    for viewer in (alice["id"], bob["id"], None):
        shown = await both(viewer)
        assert shown[1]["poll"] is None and shown[2]["poll"]["votes_count"] == 0
    async with ctx.db.write() as tx:
        await polls.vote(ctx, tx, asked, bob["id"], [1])
    as_bob = await both(bob["id"])
    assert as_bob[0]["reblog"]["poll"]["own_votes"] == [1]
    assert as_bob[2]["poll"]["options"][1]["votes_count"] == 1
    assert (await both(alice["id"]))[2]["poll"]["voted"] is False
    async with ctx.db.write() as tx:  # the poll ends: no write to the post, yet it shows
        await tx.conn.execute(
            update(poll_table)
            .where(poll_table.c.status_id == asked)
            .values(expires_at=now() - timedelta(seconds=1))
        )
    assert (await both(None))[2]["poll"]["expired"] is True

    def no_polls_here(*_args):
        raise AssertionError("a page without a poll asked for polls")

    monkeypatch.setattr(hydrate, "load_polls", no_polls_here)
    async with ctx.db.read() as conn:
        await entities.statuses_json_by_id(ctx, conn, [plain], bob["id"], shared=True)
