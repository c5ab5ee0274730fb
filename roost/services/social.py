"""The follow graph, blocks and mutes, and the relationship between two accounts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BindParameter,
    Select,
    and_,
    bindparam,
    delete,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.errors import Forbidden, Invalid
from roost.services import notifications
from roost.services.context import Context, now
from roost.store.db import Tx
from roost.store.hot import Hot
from roost.store.tables import account_notes, accounts, blocks, list_accounts, lists, mutes
from roost.store.tables import follows as follows_t


@dataclass
class Relationship:
    id: int
    following: bool = False
    requested: bool = False
    followed_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    showing_reblogs: bool = False
    note: str = ""  # the viewer's private note about this account


FOLLOWS = Hot(
    select(follows_t.c.id).where(
        follows_t.c.account_id == bindparam("follower"),
        follows_t.c.target_account_id == bindparam("target"),
        follows_t.c.state == "accepted",
    )
)


async def follows(conn: AsyncConnection, follower_id: int, target_id: int) -> bool:
    return bool(await FOLLOWS.rows(conn, {"follower": follower_id, "target": target_id}))


async def blocked_either_way(conn: AsyncConnection, a: int, b: int) -> bool:
    return bool(
        await conn.scalar(
            select(blocks.c.id).where(
                or_(
                    and_(blocks.c.account_id == a, blocks.c.target_account_id == b),
                    and_(blocks.c.account_id == b, blocks.c.target_account_id == a),
                )
            )
        )
    )


def _standing_query(with_follows: bool):
    viewer: BindParameter = bindparam("viewer")
    others: BindParameter = bindparam("others", expanding=True)
    parts = [
        select(literal("b"), blocks.c.target_account_id).where(
            blocks.c.account_id == viewer, blocks.c.target_account_id.in_(others)
        ),
        select(literal("b"), blocks.c.account_id).where(
            blocks.c.target_account_id == viewer, blocks.c.account_id.in_(others)
        ),
    ]
    if with_follows:
        parts.append(
            select(literal("f"), follows_t.c.target_account_id).where(
                follows_t.c.account_id == viewer,
                follows_t.c.target_account_id.in_(others),
                follows_t.c.state == "accepted",
            )
        )
    return union_all(*parts)


# built once: on every page, composing the statement cost more than running it
_STANDING = {True: Hot(_standing_query(True)), False: Hot(_standing_query(False))}


async def standing_among(
    conn: AsyncConnection, viewer_id: int, others: set[int], with_follows: bool
) -> tuple[set[int], set[int]]:
    """(who of ``others`` is blocked either way, whom the viewer follows) in one query: the
    render-time screen asks this for every page, so one round trip instead of two."""
    blocked: set[int] = set()
    followed: set[int] = set()
    if not others:
        return blocked, followed
    found = await _STANDING[with_follows].rows(conn, {"viewer": viewer_id, "others": others})
    for kind, other in found:
        (blocked if kind == "b" else followed).add(other)
    return blocked, followed


async def follow(ctx: Context, tx: Tx, follower_id: int, target_id: int) -> None:
    """Follow (or request to follow a locked account); a new follow back-fills the home feed."""
    if follower_id == target_id:
        raise Forbidden("You can't follow yourself")
    target = (
        (await tx.conn.execute(select(accounts).where(accounts.c.id == target_id)))
        .mappings()
        .first()
    )
    if target is None or target["suspended_at"] is not None:
        raise Invalid("account", "not found")
    if await blocked_either_way(tx.conn, follower_id, target_id):
        raise Forbidden("This action is not allowed")
    existing = await tx.conn.scalar(
        select(follows_t.c.state).where(
            follows_t.c.account_id == follower_id, follows_t.c.target_account_id == target_id
        )
    )
    if existing is not None:
        return
    state = "pending" if target["locked"] else "accepted"
    await tx.conn.execute(
        insert(follows_t).values(
            id=ctx.ids.next_id(),
            account_id=follower_id,
            target_account_id=target_id,
            state=state,
            show_reblogs=True,
            created_at=now(),
        )
    )
    if state == "accepted":
        await _count_follow(tx.conn, follower_id, target_id, +1)
        tx.after_commit(lambda: ctx.fanout.backfill(follower_id, target_id))
    kind = "follow" if state == "accepted" else "follow_request"
    await notifications.notify(ctx, tx, target_id, follower_id, kind, None)


async def unfollow(ctx: Context, tx: Tx, follower_id: int, target_id: int) -> None:
    state = await tx.conn.scalar(
        select(follows_t.c.state).where(
            follows_t.c.account_id == follower_id, follows_t.c.target_account_id == target_id
        )
    )
    if state is None:
        return
    await tx.conn.execute(
        delete(follows_t).where(
            follows_t.c.account_id == follower_id, follows_t.c.target_account_id == target_id
        )
    )
    await _leave_lists(tx, follower_id, target_id)
    if state == "accepted":
        await _count_follow(tx.conn, follower_id, target_id, -1)
        tx.after_commit(lambda: ctx.fanout.unfill(follower_id, target_id))


async def _leave_lists(tx: Tx, owner_id: int, target_id: int) -> None:
    """An unfollowed account leaves the owner's lists (lists hold followed accounts only, as
    Mastodon's do); a block unfollows, so it empties them too."""
    owned = select(lists.c.id).where(lists.c.account_id == owner_id)
    await tx.conn.execute(
        delete(list_accounts).where(
            list_accounts.c.account_id == target_id, list_accounts.c.list_id.in_(owned)
        )
    )


async def _count_follow(conn: AsyncConnection, follower_id: int, target_id: int, step: int):
    await conn.execute(
        update(accounts)
        .where(accounts.c.id == follower_id)
        .values(following_count=accounts.c.following_count + step)
    )
    await conn.execute(
        update(accounts)
        .where(accounts.c.id == target_id)
        .values(followers_count=accounts.c.followers_count + step)
    )


async def block(ctx: Context, tx: Tx, account_id: int, target_id: int, on: bool) -> None:
    if account_id == target_id:
        raise Forbidden("You can't block yourself")
    if on:
        await unfollow(ctx, tx, account_id, target_id)
        await unfollow(ctx, tx, target_id, account_id)
    await _toggle(ctx, tx, blocks, account_id, target_id, on)


async def mute(ctx: Context, tx: Tx, account_id: int, target_id: int, on: bool) -> None:
    if account_id == target_id:
        raise Forbidden("You can't mute yourself")
    await _toggle(ctx, tx, mutes, account_id, target_id, on)


async def _toggle(ctx: Context, tx: Tx, table, account_id: int, target_id: int, on: bool):
    present = await tx.conn.scalar(
        select(table.c.id).where(
            table.c.account_id == account_id, table.c.target_account_id == target_id
        )
    )
    if on and present is None:
        await tx.conn.execute(
            insert(table).values(
                id=ctx.ids.next_id(),
                account_id=account_id,
                target_account_id=target_id,
                created_at=now(),
            )
        )
    elif not on and present is not None:
        await tx.conn.execute(delete(table).where(table.c.id == present))


async def relationships(
    conn: AsyncConnection, viewer_id: int, target_ids: list[int]
) -> list[Relationship]:
    rels = {t: Relationship(id=t) for t in target_ids}
    if not rels:
        return []
    ids = list(rels)
    for row in await conn.execute(
        select(follows_t).where(
            or_(
                and_(follows_t.c.account_id == viewer_id, follows_t.c.target_account_id.in_(ids)),
                and_(follows_t.c.target_account_id == viewer_id, follows_t.c.account_id.in_(ids)),
            )
        )
    ):
        if row.account_id == viewer_id:
            rel = rels[row.target_account_id]
            rel.following = row.state == "accepted"
            rel.requested = row.state == "pending"
            rel.showing_reblogs = row.show_reblogs and rel.following
        elif row.state == "accepted":
            rels[row.account_id].followed_by = True
    for row in await conn.execute(
        select(blocks).where(
            or_(
                and_(blocks.c.account_id == viewer_id, blocks.c.target_account_id.in_(ids)),
                and_(blocks.c.target_account_id == viewer_id, blocks.c.account_id.in_(ids)),
            )
        )
    ):
        if row.account_id == viewer_id:
            rels[row.target_account_id].blocking = True
        else:
            rels[row.account_id].blocked_by = True
    for target in await conn.scalars(
        select(mutes.c.target_account_id).where(
            mutes.c.account_id == viewer_id, mutes.c.target_account_id.in_(ids)
        )
    ):
        rels[target].muting = True
    for target, comment in await conn.execute(
        select(account_notes.c.target_account_id, account_notes.c.comment).where(
            account_notes.c.account_id == viewer_id, account_notes.c.target_account_id.in_(ids)
        )
    ):
        rels[target].note = comment
    return [rels[t] for t in target_ids]


async def follower_ids(conn: AsyncConnection, account_id: int) -> list[int]:
    result = await conn.execute(
        select(follows_t.c.account_id).where(
            follows_t.c.target_account_id == account_id, follows_t.c.state == "accepted"
        )
    )
    return list(result.scalars())


async def follower_ids_after(
    conn: AsyncConnection, account_id: int, after: int, limit: int
) -> list[int]:
    """A chunk of followers in id order (keyset pagination), for large fan-outs."""
    result = await conn.execute(
        select(follows_t.c.account_id)
        .where(
            follows_t.c.target_account_id == account_id,
            follows_t.c.state == "accepted",
            follows_t.c.account_id > after,
        )
        .order_by(follows_t.c.account_id)
        .limit(limit)
    )
    return list(result.scalars())


async def followed_ids(conn: AsyncConnection, account_id: int) -> list[int]:
    result = await conn.execute(
        select(follows_t.c.target_account_id).where(
            follows_t.c.account_id == account_id, follows_t.c.state == "accepted"
        )
    )
    return list(result.scalars())


def hiding(viewer: BindParameter) -> list[Select]:
    """The accounts hidden from ``viewer``'s lists, three ways: blocked, blocking, muted (for
    statements that ask this among other things)."""
    return [
        select(blocks.c.target_account_id).where(blocks.c.account_id == viewer),
        select(blocks.c.account_id).where(blocks.c.target_account_id == viewer),
        select(mutes.c.target_account_id).where(mutes.c.account_id == viewer),
    ]


HIDDEN = Hot(union_all(*hiding(bindparam("viewer"))))


async def hidden_ids(conn: AsyncConnection, viewer_id: int) -> set[int]:
    """Accounts whose posts the viewer must not see in lists: blocked, blocking, muted.

    One prebuilt round trip (a UNION), since every home-timeline read asks.
    """
    return set(await HIDDEN.scalars(conn, {"viewer": viewer_id}))


async def shunning(conn: AsyncConnection, author_ids: list[int]) -> set[int]:
    """Accounts that must not be shown these authors' posts live: they mute or block one of
    them, or are blocked by one (the mirror of ``hidden_ids``, asked once per post)."""
    query = union_all(
        select(mutes.c.account_id).where(mutes.c.target_account_id.in_(author_ids)),
        select(blocks.c.account_id).where(blocks.c.target_account_id.in_(author_ids)),
        select(blocks.c.target_account_id).where(blocks.c.account_id.in_(author_ids)),
    )
    return set((await conn.execute(query)).scalars())


async def answer_request(ctx: Context, tx: Tx, target_id: int, follower_id: int, accept: bool):
    """A locked account accepts or rejects a pending follow request."""
    state = await tx.conn.scalar(
        select(follows_t.c.state).where(
            follows_t.c.account_id == follower_id, follows_t.c.target_account_id == target_id
        )
    )
    if state != "pending":
        raise Invalid("follow_request", "not found")
    if not accept:
        await tx.conn.execute(
            delete(follows_t).where(
                follows_t.c.account_id == follower_id, follows_t.c.target_account_id == target_id
            )
        )
        return
    await tx.conn.execute(
        update(follows_t)
        .where(follows_t.c.account_id == follower_id, follows_t.c.target_account_id == target_id)
        .values(state="accepted")
    )
    await _count_follow(tx.conn, follower_id, target_id, +1)
    tx.after_commit(lambda: ctx.fanout.backfill(follower_id, target_id))
    await notifications.notify(ctx, tx, target_id, follower_id, "follow", None)


async def pending_requests(conn: AsyncConnection, target_id: int, limit: int = 40) -> list[int]:
    result = await conn.execute(
        select(follows_t.c.account_id)
        .where(follows_t.c.target_account_id == target_id, follows_t.c.state == "pending")
        .order_by(follows_t.c.id.desc())
        .limit(limit)
    )
    return list(result.scalars())
