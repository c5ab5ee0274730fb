"""The shelf (roost.services.shelf): what every viewer sees alike is kept between reads, and
nothing on it outlives a write, leaks one viewer's part to another, or hides a post from the
visibility rule. On SQLite and on the real PostgreSQL."""

from __future__ import annotations

from roost.present import entities
from roost.services import accounts, hydrate, posts, social
from roost.services.context import shelf
from roost.store.db import Database


async def _user(ctx, name: str) -> dict:
    return await accounts.register(ctx, name, f"{name}@roost.test", "password123")


async def _post(ctx, author, body: str, **options) -> int:
    async with ctx.db.write() as tx:
        status_id = await posts.create(ctx, tx, author, body, **options)
    await ctx.fanout.drain()
    return status_id


async def _shown(ctx, ids: list[int], viewer_id: int | None) -> list[dict]:
    async with ctx.db.read() as conn:
        return await entities.statuses_by_id(ctx, conn, ids, viewer_id, shared=True)


async def test_a_second_read_comes_from_the_shelf_and_renders_the_same(ctx):
    alice = await _user(ctx, "alice")
    ids = [await _post(ctx, alice, f"post {n} #roost") for n in range(3)]
    first = await _shown(ctx, ids, alice["id"])
    kept = shelf(ctx)
    assert set(ids) <= set(kept.posts) and ("s", ids[0]) in kept.rendered
    async with ctx.db.read() as conn:  # the same page without the shelf: the same entities
        fresh = await entities.statuses_by_id(ctx, conn, ids, alice["id"])
    assert await _shown(ctx, ids, alice["id"]) == first == fresh


async def test_every_write_empties_the_shelf(ctx):
    alice, bob = await _user(ctx, "alice"), await _user(ctx, "bob")
    status_id = await _post(ctx, alice, "before")
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
    alice, bob, carol = [await _user(ctx, n) for n in ("alice", "bob", "carol")]
    async with ctx.db.write() as tx:
        await social.follow(ctx, tx, bob["id"], alice["id"])
    await ctx.fanout.drain()
    public = await _post(ctx, alice, "for everyone")
    private = await _post(ctx, alice, "followers only", visibility="private")
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


async def test_a_read_racing_a_write_is_not_kept(ctx):
    alice = await _user(ctx, "alice")
    status_id = await _post(ctx, alice, "racing")
    kept = shelf(ctx)
    stamp = kept.open()
    async with ctx.db.read() as conn:
        batch = await hydrate.posts(conn, [status_id], None, shelf=kept)
    assert batch.stamp == stamp and status_id in kept.posts
    kept.generation.bump()  # a commit lands while a read that began before it is running
    assert not kept.fresh(stamp)
    async with ctx.db.read() as conn:
        await hydrate.posts(conn, [status_id], None, shelf=kept)
    assert kept.stamp == kept.generation.value  # the shelf started again


async def test_another_process_writes_are_seen_within_the_ttl(ctx, monkeypatch):
    """A second process's commits do not move this one's generation: the shelf's ttl (the
    response cache's bound) is what limits how long its entries can be stale."""
    clock = [1000.0]
    monkeypatch.setattr("roost.services.shelf.time.monotonic", lambda: clock[0])
    alice = await _user(ctx, "alice")
    status_id = await _post(ctx, alice, "original text")
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
