"""Polls' rows: written with their post, loaded with a page of posts.

Kept apart from the use cases (``roost.services.polls``) so that ``posts`` (which writes a poll
with its post) and ``hydrate`` (which loads the polls of a page) can both import it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BindParameter,
    bindparam,
    func,
    insert,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.polls import Draft
from roost.store.db import Tx
from roost.store.hot import Hot
from roost.store.tables import poll_votes, polls


@dataclass(frozen=True)
class Poll:
    """A poll as read now: its counts, and the viewer's own choices (None: no viewer)."""

    id: int  # its post's id
    author_id: int
    options: tuple[str, ...]
    expires_at: datetime
    multiple: bool
    hide_totals: bool
    counts: tuple[int, ...]  # votes for each option, in order
    votes_count: int
    voters_count: int
    own: tuple[int, ...] | None


async def attach(tx: Tx, status_id: int, draft: Draft, expires_at: datetime) -> None:
    """The poll of a post being written (its row already holds ``poll_votes_count = 0``)."""
    await tx.conn.execute(
        insert(polls).values(
            status_id=status_id,
            options=json.dumps(list(draft.options)),
            multiple=draft.multiple,
            hide_totals=draft.hide_totals,
            expires_at=expires_at,
        )
    )


_IDS: BindParameter = bindparam("ids", expanding=True)
_VIEWER: BindParameter = bindparam("viewer")
POLL_ROWS = Hot(select(polls).where(polls.c.status_id.in_(_IDS)))
# Per poll: each option's votes ("c"), its voters ("v") and the viewer's choices ("o").
POLL_COUNTS = Hot(
    union_all(
        select(literal("c"), poll_votes.c.status_id, poll_votes.c.choice, func.count())
        .where(poll_votes.c.status_id.in_(_IDS))
        .group_by(poll_votes.c.status_id, poll_votes.c.choice),
        select(
            literal("v"),
            poll_votes.c.status_id,
            literal_column("-1"),
            func.count(poll_votes.c.account_id.distinct()),
        )
        .where(poll_votes.c.status_id.in_(_IDS))
        .group_by(poll_votes.c.status_id),
        select(
            literal("o"), poll_votes.c.status_id, poll_votes.c.choice, literal_column("0")
        ).where(poll_votes.c.status_id.in_(_IDS), poll_votes.c.account_id == _VIEWER),
    )
)


async def load(
    conn: AsyncConnection, authors: dict[int, int], viewer_id: int | None
) -> dict[int, Poll]:
    """The polls of the posts ``authors`` names (post id -> author id), in two statements
    whatever their number; asked only for posts whose row says they have one."""
    if not authors:
        return {}
    ids = list(authors)
    rows = await POLL_ROWS.mappings(conn, {"ids": ids})
    counted = await POLL_COUNTS.rows(conn, {"ids": ids, "viewer": viewer_id or 0})
    counts: dict[int, dict[int, int]] = {i: {} for i in ids}
    voters: dict[int, int] = {}
    own: dict[int, list[int]] = {i: [] for i in ids}
    for kind, status_id, choice, number in counted:
        if kind == "c":
            counts[status_id][choice] = number
        elif kind == "v":
            voters[status_id] = number
        else:
            own[status_id].append(choice)
    return {row["status_id"]: _poll(row, authors, counts, voters, own, viewer_id) for row in rows}


def _poll(row, authors, counts, voters, own, viewer_id: int | None) -> Poll:
    status_id = row["status_id"]
    options = tuple(json.loads(row["options"]))
    tally = tuple(counts[status_id].get(n, 0) for n in range(len(options)))
    return Poll(
        id=status_id,
        author_id=authors[status_id],
        options=options,
        expires_at=row["expires_at"],
        multiple=bool(row["multiple"]),
        hide_totals=bool(row["hide_totals"]),
        counts=tally,
        votes_count=sum(tally),
        voters_count=voters.get(status_id, 0),
        own=None if viewer_id is None else tuple(sorted(own[status_id])),
    )
