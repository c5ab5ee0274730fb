"""Threads and direct conversations (Mastodon's ``/api/v1/conversations``).

Every new post is filed under its thread (the id of the thread's first post), in the post's own
transaction: status mutes and conversations are per thread. A direct post also updates each of
its people's view of the thread (their ``account_conversations`` row: the others in it, the
newest post they may see, unread for the recipients and read for the author); once committed,
each is told on their ``direct:<id>`` stream channel, where the streaming layer renders the
Conversation for them.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.errors import NotFound
from roost.services import accounts as account_service
from roost.services import hydrate
from roost.services.context import Context
from roost.services.timelines import Page
from roost.store.db import Tx
from roost.store.tables import account_conversations, blocks, mutes, status_threads


async def thread_of(conn: AsyncConnection, status_id: int) -> int:
    """The thread a post belongs to; a post filed under none (older than threads) is its own."""
    found = await conn.scalar(
        select(status_threads.c.thread_id).where(status_threads.c.status_id == status_id)
    )
    return status_id if found is None else found


async def record(
    ctx: Context,
    tx: Tx,
    status_id: int,
    author_id: int,
    parent_id: int | None,
    direct: bool,
    recipients: list[int],
) -> None:
    """File a new post under its thread; for a direct one, update its people's conversations."""
    thread_id = status_id if parent_id is None else await thread_of(tx.conn, parent_id)
    await tx.conn.execute(insert(status_threads).values(status_id=status_id, thread_id=thread_id))
    if not direct:
        return
    people = {author_id, *await _reachable(tx.conn, author_id, recipients)}
    for account_id in people:
        others = people - {account_id}
        row_id = await _upsert(
            ctx, tx, account_id, thread_id, status_id, others, account_id != author_id
        )
        tx.after_commit(functools.partial(_publish, ctx, account_id, row_id))


async def _reachable(conn: AsyncConnection, author_id: int, recipients: list[int]) -> set[int]:
    """The recipients who neither block nor mute the author (as for notifications)."""
    wanted = set(recipients) - {author_id}
    if not wanted:
        return wanted
    shunning = set()
    for table in (blocks, mutes):
        shunning |= set(
            await conn.scalars(
                select(table.c.account_id).where(
                    table.c.target_account_id == author_id, table.c.account_id.in_(wanted)
                )
            )
        )
    return wanted - shunning


async def _upsert(
    ctx: Context,
    tx: Tx,
    account_id: int,
    thread_id: int,
    status_id: int,
    others: set[int],
    unread: bool,
) -> int:
    """One participant's conversation brought up to this post; returns its id. Two posts in
    one thread at once may both find none: the second's insert yields (ON CONFLICT DO NOTHING,
    which on PostgreSQL waits for the first to commit) and it updates the first's row."""
    t = account_conversations
    found = await _conversation_row(tx, account_id, thread_id)
    if found is None:
        row_id = ctx.ids.next_id()
        dialect = postgresql if tx.conn.dialect.name == "postgresql" else sqlite
        made = await tx.conn.execute(
            dialect.insert(t)
            .values(
                id=row_id,
                account_id=account_id,
                thread_id=thread_id,
                participant_ids=_joined(others),
                last_status_id=status_id,
                unread=unread,
            )
            .on_conflict_do_nothing(index_elements=["account_id", "thread_id"])
        )
        if made.rowcount == 1:
            return row_id
        found = await _conversation_row(tx, account_id, thread_id)
        assert found is not None  # the row that won the race
    everyone = others | set(participants(found["participant_ids"]))
    await tx.conn.execute(
        update(t)
        .where(t.c.id == found["id"])
        .values(participant_ids=_joined(everyone), last_status_id=status_id, unread=unread)
    )
    return found["id"]


async def _conversation_row(tx: Tx, account_id: int, thread_id: int):
    t = account_conversations
    found = await tx.conn.execute(
        select(t.c.id, t.c.participant_ids).where(
            t.c.account_id == account_id, t.c.thread_id == thread_id
        )
    )
    return found.mappings().first()


def _joined(ids: set[int]) -> str:
    return ",".join(str(i) for i in sorted(ids))


def participants(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


async def _publish(ctx: Context, account_id: int, conversation_id: int) -> None:
    channel = f"direct:{account_id}"
    if ctx.bus.may_listen([channel]):  # nobody streaming it here (or, with Redis, anywhere)
        message = json.dumps({"event": "conversation", "id": conversation_id})
        await ctx.bus.publish(channel, message)


async def page(conn: AsyncConnection, account_id: int, window: Page) -> list[RowMapping]:
    """A page of one's conversations, newest post first; the cursor is the newest post's id
    (as Mastodon pages them)."""
    t = account_conversations
    key = t.c.last_status_id
    query = select(t).where(t.c.account_id == account_id)
    if window.max_id is not None:
        query = query.where(key < window.max_id)
    if window.lower is not None:
        query = query.where(key > window.lower)
    if window.forward:  # min_id: the ones just above it, then shown newest first
        result = await conn.execute(query.order_by(key.asc()).limit(window.limit))
        return list(reversed(list(result.mappings())))
    result = await conn.execute(query.order_by(key.desc()).limit(window.limit))
    return list(result.mappings())


async def get(conn: AsyncConnection, account_id: int, conversation_id: int) -> RowMapping:
    """One of one's own conversations; someone else's is not found."""
    t = account_conversations
    found = (
        (
            await conn.execute(
                select(t).where(t.c.id == conversation_id, t.c.account_id == account_id)
            )
        )
        .mappings()
        .first()
    )
    if found is None:
        raise NotFound("Record")
    return found


async def mark_read(tx: Tx, account_id: int, conversation_id: int) -> RowMapping:
    await get(tx.conn, account_id, conversation_id)
    t = account_conversations
    await tx.conn.execute(update(t).where(t.c.id == conversation_id).values(unread=False))
    return await get(tx.conn, account_id, conversation_id)


async def remove(tx: Tx, account_id: int, conversation_id: int) -> None:
    """Hide a conversation: its row goes, and the next post in the thread makes a new one."""
    await get(tx.conn, account_id, conversation_id)
    t = account_conversations
    await tx.conn.execute(delete(t).where(t.c.id == conversation_id))


@dataclass
class Loaded:
    """Conversations ready to show: the others' accounts and the last posts as the owner sees
    them (a last post since deleted or hidden shows as null)."""

    rows: list[RowMapping]
    people: dict[int, dict]
    posts: hydrate.Posts


async def load(conn: AsyncConnection, rows: list[RowMapping], viewer_id: int) -> Loaded:
    ids = {i for row in rows for i in participants(row["participant_ids"])}
    people = await account_service.get_many(conn, ids)
    posts = await hydrate.posts(conn, [row["last_status_id"] for row in rows], viewer_id)
    return Loaded(rows, people, posts)
