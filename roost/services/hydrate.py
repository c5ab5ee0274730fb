"""Load, then render: everything a page of posts needs, in a fixed handful of queries.

Every face (the API, the web pages, the streams) shows posts the same way: it names the ids
(a timeline, a thread, a search), this module loads what showing them takes (the posts, the
originals of reposts, their authors, mentions, tags and the viewer's favourites, reposts and
bookmarks) and applies the one visibility rule at the last moment, and ``roost.present`` shapes
the result without another query. A page costs the same few queries for 1 post or 40.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import bindparam, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.services import accounts as account_service
from roost.services import posts as post_service
from roost.services.context import Context
from roost.store.tables import (
    accounts,
    bookmarks,
    favourites,
    mentions,
    status_tags,
    statuses,
    tags,
)

Row = Mapping


@dataclass
class Posts:
    """A page of posts ready to show: ``order`` holds the ids that survived, as asked."""

    order: list[int] = field(default_factory=list)
    rows: dict[int, Row] = field(default_factory=dict)  # the posts and reposted originals
    authors: dict[int, Row] = field(default_factory=dict)
    mentions: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    tags: dict[int, list[str]] = field(default_factory=dict)
    favourited: set[int] = field(default_factory=set)
    reblogged: set[int] = field(default_factory=set)
    bookmarked: set[int] = field(default_factory=set)


@dataclass
class Notifications:
    """A page of notifications: each kept row's sender is in ``senders``, its post in ``posts``."""

    rows: list[Row]
    senders: dict[int, Row]
    posts: Posts


# Statements are built once, at import: building one per call cost more than running it.
_IDS = bindparam("ids", expanding=True)
STATUS_ROWS = select(statuses).where(statuses.c.id.in_(_IDS))
MENTIONS_AND_TAGS = union_all(
    select(literal("m"), mentions.c.status_id, accounts.c.id, accounts.c.username)
    .join(accounts, accounts.c.id == mentions.c.account_id)
    .where(mentions.c.status_id.in_(_IDS)),
    select(literal("t"), status_tags.c.status_id, tags.c.id, tags.c.name)
    .join(tags, tags.c.id == status_tags.c.tag_id)
    .where(status_tags.c.status_id.in_(_IDS)),
)
VIEWER_FLAGS = union_all(
    select(literal("favourited"), favourites.c.status_id).where(
        favourites.c.account_id == bindparam("viewer"), favourites.c.status_id.in_(_IDS)
    ),
    select(literal("bookmarked"), bookmarks.c.status_id).where(
        bookmarks.c.account_id == bindparam("viewer"), bookmarks.c.status_id.in_(_IDS)
    ),
    select(literal("reblogged"), statuses.c.reblog_of_id).where(
        statuses.c.account_id == bindparam("viewer"), statuses.c.reblog_of_id.in_(_IDS)
    ),
)


async def posts(
    conn: AsyncConnection, ids: list[int], viewer_id: int | None, screen: bool = True
) -> Posts:
    """The posts ``ids`` as ``viewer_id`` may see them now; gone ones are left out.

    Every read path comes through here, so this is where the one visibility rule is applied
    at the last moment: a feed or a notification made when a post was visible (a mention since
    edited away, a follow since ended) does not show it any more. Only the fan-out's stream
    rendering skips it (``screen=False``): it chose the audience itself.
    """
    batch = Posts()
    if not ids:
        return batch
    rows = await _rows(conn, ids)
    missing = {r["reblog_of_id"] for r in rows.values() if r["reblog_of_id"]} - rows.keys()
    if missing:
        rows.update(await _rows(conn, list(missing)))
    authors = await account_service.get_many(conn, {r["account_id"] for r in rows.values()})
    if screen:
        seen = await post_service.visible_subset(
            conn, list(rows.values()), viewer_id, live_authors=set(authors)
        )
        rows = {r["id"]: r for r in seen}
    batch.rows, batch.authors = rows, authors
    batch.order = [i for i in ids if _showable(i, rows, authors)]
    every = list(rows)
    await _mentions_and_tags(conn, every, batch)
    await _viewer_flags(conn, viewer_id, every, batch)
    return batch


def _showable(status_id: int, rows: dict[int, Row], authors: dict[int, Row]) -> bool:
    row = rows.get(status_id)
    if row is None or row["account_id"] not in authors:
        return False
    if not row["reblog_of_id"]:
        return True
    original = rows.get(row["reblog_of_id"])
    return original is not None and original["account_id"] in authors


async def for_stream(ctx: Context, status_id: int) -> Posts:
    """One post as streamed to everyone: no viewer, and the fan-out chose the audience."""
    async with ctx.db.read() as conn:
        return await posts(conn, [status_id], None, screen=False)


async def notifications(conn: AsyncConnection, rows: list[Row], viewer_id: int) -> Notifications:
    senders = await account_service.get_many(conn, {r["from_account_id"] for r in rows})
    status_ids = [r["status_id"] for r in rows if r["status_id"]]
    batch = await posts(conn, status_ids, viewer_id)
    shown = set(batch.order)
    kept = [
        r
        for r in rows
        if r["from_account_id"] in senders and (not r["status_id"] or r["status_id"] in shown)
    ]
    return Notifications(kept, senders, batch)


async def _rows(conn: AsyncConnection, ids: list[int]) -> dict[int, Row]:
    result = await conn.execute(STATUS_ROWS, {"ids": list(ids)})
    return {r["id"]: r for r in result.mappings()}


async def _mentions_and_tags(conn: AsyncConnection, ids: list[int], batch: Posts) -> None:
    """Who each post mentions and which tags it carries: one query for both."""
    for kind, status_id, other_id, name in await conn.execute(MENTIONS_AND_TAGS, {"ids": ids}):
        if kind == "m":
            batch.mentions.setdefault(status_id, []).append((other_id, name))
        else:
            batch.tags.setdefault(status_id, []).append(name)


async def _viewer_flags(
    conn: AsyncConnection, viewer_id: int | None, ids: list[int], batch: Posts
) -> None:
    """Which of ``ids`` the viewer favourited, bookmarked, reblogged: one query."""
    if viewer_id is None:
        return
    for kind, status_id in await conn.execute(VIEWER_FLAGS, {"viewer": viewer_id, "ids": ids}):
        getattr(batch, kind).add(status_id)
