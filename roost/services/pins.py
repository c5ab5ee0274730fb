"""Pinned posts (shown first on a profile) and status mutes (a thread's notifications stop).

Both are the viewer's own flags on a post: ``roost.services.hydrate`` reads them with the
viewer's favourites and bookmarks, and the Status entity carries them as ``pinned`` and
``muted``.
"""

from __future__ import annotations

from sqlalchemy import delete, exists, insert, or_, select, union_all
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.errors import ValidationFailed
from roost.services import accounts, posts
from roost.services.context import Context, now
from roost.services.conversations import thread_of
from roost.store.db import Tx
from roost.store.tables import mentions, status_pins, status_threads, statuses, thread_mutes

MOST_PINS = 5  # as Mastodon
PINNABLE = ("public", "unlisted", "private")


async def pin(ctx: Context, tx: Tx, viewer_id: int, status_id: int) -> int:
    """Pin one's own post (not a repost, not a direct one; at most five); pinning twice is
    pinning once. 404 for a post the viewer may not see, 422 for one they may not pin."""
    row = await posts.get_visible(tx.conn, status_id, viewer_id)
    _pinnable(row, viewer_id)
    await accounts.hold(tx, viewer_id)
    pinned = list(
        await tx.conn.scalars(
            select(status_pins.c.status_id).where(status_pins.c.account_id == viewer_id)
        )
    )
    if status_id in pinned:
        return status_id
    if len(pinned) >= MOST_PINS:
        raise ValidationFailed(f"You have already pinned the maximum number of posts ({MOST_PINS})")
    await tx.conn.execute(
        insert(status_pins).values(
            id=ctx.ids.next_id(), account_id=viewer_id, status_id=status_id, created_at=now()
        )
    )
    return status_id


def _pinnable(row: RowMapping, viewer_id: int) -> None:
    if row["account_id"] != viewer_id:
        raise ValidationFailed("You can only pin your own posts")
    if row["reblog_of_id"] is not None:
        raise ValidationFailed("A boost cannot be pinned")
    if row["visibility"] not in PINNABLE:
        raise ValidationFailed("Direct posts cannot be pinned")


async def unpin(tx: Tx, viewer_id: int, status_id: int) -> int:
    """Unpin a post (one not pinned stays so); 404 for a post the viewer may not see."""
    await posts.get_visible(tx.conn, status_id, viewer_id)
    await tx.conn.execute(
        delete(status_pins).where(
            status_pins.c.account_id == viewer_id, status_pins.c.status_id == status_id
        )
    )
    return status_id


async def pinned(conn: AsyncConnection, account_id: int) -> list[int]:
    """An account's pinned posts, newest pin first (the reader's visibility applies later)."""
    found = await conn.scalars(
        select(status_pins.c.status_id)
        .where(status_pins.c.account_id == account_id)
        .order_by(status_pins.c.id.desc())
    )
    return list(found)


async def mute(ctx: Context, tx: Tx, viewer_id: int, status_id: int, on: bool) -> int:
    """Mute (or unmute) the thread of a post one takes part in (wrote or was mentioned in a
    post of it): its replies, favourites and reposts notify the muter no more. Returns the
    post's id (a repost's original)."""
    row = await posts.get_visible(tx.conn, status_id, viewer_id)
    if row["reblog_of_id"] is not None:
        row = await posts.get_visible(tx.conn, row["reblog_of_id"], viewer_id)
    thread_id = await thread_of(tx.conn, row["id"])
    if not on:
        await tx.conn.execute(
            delete(thread_mutes).where(
                thread_mutes.c.account_id == viewer_id, thread_mutes.c.thread_id == thread_id
            )
        )
        return row["id"]
    if not await _takes_part(tx.conn, viewer_id, thread_id):
        raise ValidationFailed("You can only mute conversations you take part in")
    already = await tx.conn.scalar(
        select(thread_mutes.c.id).where(
            thread_mutes.c.account_id == viewer_id, thread_mutes.c.thread_id == thread_id
        )
    )
    if already is None:
        await tx.conn.execute(
            insert(thread_mutes).values(
                id=ctx.ids.next_id(), account_id=viewer_id, thread_id=thread_id, created_at=now()
            )
        )
    return row["id"]


async def _takes_part(conn: AsyncConnection, viewer_id: int, thread_id: int) -> bool:
    """Whether the viewer wrote, or was mentioned in, a post of the thread."""
    in_thread = union_all(
        select(status_threads.c.status_id).where(status_threads.c.thread_id == thread_id),
        select(statuses.c.id).where(statuses.c.id == thread_id),
    ).subquery()
    wrote = exists(
        select(statuses.c.id).where(
            statuses.c.id.in_(select(in_thread.c[0])), statuses.c.account_id == viewer_id
        )
    )
    mentioned = exists(
        select(mentions.c.status_id).where(
            mentions.c.status_id.in_(select(in_thread.c[0])), mentions.c.account_id == viewer_id
        )
    )
    return bool(await conn.scalar(select(or_(wrote, mentioned))))
