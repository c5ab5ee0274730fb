"""Notifications: made inside the transaction that caused them, streamed after it commits."""

from __future__ import annotations

import json

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.errors import NotFound
from roost.services.context import Context, now
from roost.store.db import Tx
from roost.store.tables import (
    blocks,
    markers,
    mutes,
    notifications,
    status_threads,
    thread_mutes,
)

# Streams (the API's and the web page's) send a heartbeat this often when nothing happens, so
# proxies keep them open and a client notices a dead connection.
HEARTBEAT_SECONDS = 15.0

TYPES = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update")


async def notify(
    ctx: Context, tx: Tx, account_id: int, from_id: int, kind: str, status_id: int | None
) -> int | None:
    """Record a notification unless the recipient blocks or mutes the sender."""
    ignored = await tx.conn.scalar(
        select(blocks.c.id).where(
            blocks.c.account_id == account_id, blocks.c.target_account_id == from_id
        )
    ) or await tx.conn.scalar(
        select(mutes.c.id).where(
            mutes.c.account_id == account_id, mutes.c.target_account_id == from_id
        )
    )
    if ignored or (status_id is not None and await thread_muted(tx.conn, account_id, status_id)):
        return None
    notification_id = ctx.ids.next_id()
    await tx.conn.execute(
        insert(notifications).values(
            id=notification_id,
            account_id=account_id,
            from_account_id=from_id,
            type=kind,
            status_id=status_id,
            created_at=now(),
        )
    )
    tx.after_commit(lambda: _publish(ctx, account_id, notification_id))
    return notification_id


async def thread_muted(conn: AsyncConnection, account_id: int, status_id: int) -> bool:
    """Whether ``account_id`` muted the thread of ``status_id`` (a post filed under no thread
    is its own)."""
    thread = func.coalesce(
        select(status_threads.c.thread_id)
        .where(status_threads.c.status_id == status_id)
        .scalar_subquery(),
        status_id,
    )
    found = await conn.scalar(
        select(thread_mutes.c.id).where(
            thread_mutes.c.account_id == account_id, thread_mutes.c.thread_id == thread
        )
    )
    return found is not None


async def _publish(ctx: Context, account_id: int, notification_id: int) -> None:
    message = json.dumps({"event": "notification", "id": notification_id})
    await ctx.bus.publish(f"user:{account_id}", message)


async def page(
    conn: AsyncConnection,
    account_id: int,
    *,
    max_id=None,
    since_id=None,
    min_id=None,
    limit: int = 20,
    types: list[str] | None = None,
    exclude: list[str] | None = None,
) -> list[RowMapping]:
    query = select(notifications).where(notifications.c.account_id == account_id)
    if types:
        query = query.where(notifications.c.type.in_(types))
    if exclude:
        query = query.where(notifications.c.type.not_in(exclude))
    if max_id is not None:
        query = query.where(notifications.c.id < max_id)
    if since_id is not None:
        query = query.where(notifications.c.id > since_id)
    if min_id is not None:
        query = query.where(notifications.c.id > min_id).order_by(notifications.c.id.asc())
        rows = list((await conn.execute(query.limit(limit))).mappings())
        return list(reversed(rows))
    result = await conn.execute(query.order_by(notifications.c.id.desc()).limit(limit))
    return list(result.mappings())


async def get(conn: AsyncConnection, account_id: int, notification_id: int) -> RowMapping:
    row = (
        (
            await conn.execute(
                select(notifications).where(
                    notifications.c.id == notification_id, notifications.c.account_id == account_id
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("Notification")
    return row


async def dismiss(tx: Tx, account_id: int, notification_id: int) -> None:
    await get(tx.conn, account_id, notification_id)
    await tx.conn.execute(delete(notifications).where(notifications.c.id == notification_id))


async def clear(tx: Tx, account_id: int) -> None:
    await tx.conn.execute(delete(notifications).where(notifications.c.account_id == account_id))


async def unread_count(
    conn: AsyncConnection,
    account_id: int,
    limit: int,
    types: list[str] | None = None,
    exclude: list[str] | None = None,
    from_id: int | None = None,
) -> int:
    """Notifications above the account's ``notifications`` marker (all of them without one),
    counted up to ``limit`` as Mastodon caps it, so a count never scans a long backlog."""
    last_read = await conn.scalar(
        select(markers.c.last_read_id).where(
            markers.c.account_id == account_id, markers.c.timeline == "notifications"
        )
    )
    query = select(notifications.c.id).where(notifications.c.account_id == account_id)
    if last_read is not None:
        query = query.where(notifications.c.id > last_read)
    if types:
        query = query.where(notifications.c.type.in_(types))
    if exclude:
        query = query.where(notifications.c.type.not_in(exclude))
    if from_id is not None:
        query = query.where(notifications.c.from_account_id == from_id)
    capped = query.order_by(notifications.c.id.desc()).limit(limit).subquery()
    return await conn.scalar(select(func.count()).select_from(capped)) or 0
