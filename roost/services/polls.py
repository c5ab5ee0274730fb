"""Polls: read one, vote, and tell voters and author when a poll has ended (Mastodon's
``poll`` notification).

A poll's id is its post's id. Who may read or vote is who may see the post (404 otherwise,
as Mastodon hides what one may not read). A vote bumps the post's ``poll_votes_count`` in its
own transaction, a column the shelf checks (``roost.services.shelf``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.errors import NotFound
from roost.domain.polls import check_choices
from roost.services import notifications, posts, tallies
from roost.services.context import Context, now
from roost.store.db import Tx
from roost.store.tables import poll_votes, polls, statuses

log = logging.getLogger(__name__)
CHECK_EVERY = 5.0  # seconds between looks for ended polls: notifications come this late at most
BATCH = 100  # ended polls told per look
MOST_CHOICES = 40  # read of a vote's choices; past a poll's options anyway


async def one(conn: AsyncConnection, poll_id: int, viewer_id: int | None) -> tallies.Poll:
    """A poll whose post the viewer may see."""
    row = await _polled(conn, poll_id, viewer_id)
    return (await tallies.load(conn, {row["id"]: row["account_id"]}, viewer_id))[row["id"]]


async def _polled(conn: AsyncConnection, poll_id: int, viewer_id: int | None):
    row = await posts.get_visible(conn, poll_id, viewer_id)
    if row["poll_votes_count"] is None:
        raise NotFound("Record")
    return row


async def vote(
    ctx: Context, tx: Tx, poll_id: int, viewer_id: int, choices: Sequence[int]
) -> tallies.Poll:
    """Vote once, as Mastodon allows (its author too); returns the poll as it is now."""
    row = await _polled(tx.conn, poll_id, viewer_id)
    # FOR UPDATE on PostgreSQL: the same person's second vote waits for the first, then sees it
    # (SQLite's writers take turns already)
    poll = (
        (await tx.conn.execute(select(polls).where(polls.c.status_id == poll_id).with_for_update()))
        .mappings()
        .one()
    )
    voted = await tx.conn.scalar(
        select(poll_votes.c.id)
        .where(poll_votes.c.status_id == poll_id, poll_votes.c.account_id == viewer_id)
        .limit(1)
    )
    expired = now() >= poll["expires_at"]
    options = len(json.loads(poll["options"]))
    picked = check_choices(choices, options, poll["multiple"], voted is not None, expired)
    moment = now()
    for choice in picked:
        await tx.conn.execute(
            insert(poll_votes).values(
                id=ctx.ids.next_id(),
                status_id=poll_id,
                account_id=viewer_id,
                choice=choice,
                created_at=moment,
            )
        )
    await tx.conn.execute(
        update(statuses)
        .where(statuses.c.id == poll_id)
        .values(poll_votes_count=statuses.c.poll_votes_count + len(picked))
    )
    return (await tallies.load(tx.conn, {poll_id: row["account_id"]}, viewer_id))[poll_id]


async def tell_ended(ctx: Context, moment: datetime | None = None) -> int:
    """Notify the voters and author of each poll ended by ``moment`` (now) and not told yet;
    returns how many polls were told. Each poll is claimed in its own transaction, so two
    processes never tell it twice, and one that failed is tried again at the next look."""
    async with ctx.db.read() as conn:
        due = list(
            await conn.scalars(
                select(polls.c.status_id)
                .where(polls.c.notified_at.is_(None), polls.c.expires_at <= (moment or now()))
                .order_by(polls.c.expires_at)
                .limit(BATCH)
            )
        )
    told = 0
    for poll_id in due:
        async with ctx.db.write(background=True) as tx:
            told += await _tell(ctx, tx, poll_id)
    return told


async def _tell(ctx: Context, tx: Tx, poll_id: int) -> int:
    claimed = await tx.conn.execute(
        update(polls)
        .where(polls.c.status_id == poll_id, polls.c.notified_at.is_(None))
        .values(notified_at=now())
    )
    if claimed.rowcount != 1:
        return 0  # another process told them
    # the poll is deleted with its post (a cascade), so the post is there
    author = await posts.get_row(tx.conn, poll_id)
    voters = await tx.conn.scalars(
        select(poll_votes.c.account_id)
        .where(poll_votes.c.status_id == poll_id, poll_votes.c.account_id != author["account_id"])
        .distinct()
    )
    for account_id in [author["account_id"], *voters]:
        await notifications.notify(ctx, tx, account_id, author["account_id"], "poll", poll_id)
    return 1


async def tell_ended_forever(ctx: Context) -> None:
    """The in-process job: a look every few seconds, so a restart resumes where it stopped
    (what is not told yet is still ``notified_at IS NULL``). Failure policy: log and look
    again next time."""
    while True:
        try:
            await tell_ended(ctx)
        except Exception:
            log.exception("telling ended polls failed; trying again in %s s", CHECK_EVERY)
        await asyncio.sleep(CHECK_EVERY)
