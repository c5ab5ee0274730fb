"""Load, then render: everything a page of posts needs, in a fixed handful of queries.

Every face (the API, the web pages, the streams) shows posts the same way: it names the ids
(a timeline, a thread, a search), this module loads what showing them takes (the posts, the
originals of reposts, their authors, mentions, tags and the viewer's favourites, reposts and
bookmarks) and applies the one visibility rule at the last moment, and ``roost.present`` shapes
the result without another query. A page costs the same few queries for 1 post or 40.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BindParameter, bindparam, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain import posts as rules
from roost.services import accounts as account_service
from roost.services.context import Context
from roost.store.tables import (
    accounts,
    blocks,
    bookmarks,
    favourites,
    follows,
    mentions,
    status_tags,
    statuses,
    tags,
)

Row = Any  # a RowMapping, read by column name


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
# A page costs three: the posts with the originals they repost, their authors, and one union
# of everything else (mentions, tags, the viewer's favourites, reposts and bookmarks, and the
# viewer's blocks and follows among the authors, which the visibility rule needs).
_IDS: BindParameter = bindparam("ids", expanding=True)
_AUTHORS: BindParameter = bindparam("authors", expanding=True)
_VIEWER: BindParameter = bindparam("viewer")
STATUS_ROWS = select(statuses).where(
    statuses.c.id.in_(_IDS)
    | statuses.c.id.in_(select(statuses.c.reblog_of_id).where(statuses.c.id.in_(_IDS)))
)
_NONE, _NO_NAME = literal(0), literal("")
_ABOUT_POSTS = [
    select(literal("m"), mentions.c.status_id, accounts.c.id, accounts.c.username)
    .join(accounts, accounts.c.id == mentions.c.account_id)
    .where(mentions.c.status_id.in_(_IDS)),
    select(literal("t"), status_tags.c.status_id, tags.c.id, tags.c.name)
    .join(tags, tags.c.id == status_tags.c.tag_id)
    .where(status_tags.c.status_id.in_(_IDS)),
]
_ABOUT_VIEWER = [
    select(literal("favourited"), favourites.c.status_id, _NONE, _NO_NAME).where(
        favourites.c.account_id == _VIEWER, favourites.c.status_id.in_(_IDS)
    ),
    select(literal("bookmarked"), bookmarks.c.status_id, _NONE, _NO_NAME).where(
        bookmarks.c.account_id == _VIEWER, bookmarks.c.status_id.in_(_IDS)
    ),
    select(literal("reblogged"), statuses.c.reblog_of_id, _NONE, _NO_NAME).where(
        statuses.c.account_id == _VIEWER, statuses.c.reblog_of_id.in_(_IDS)
    ),
    select(literal("blocked"), blocks.c.target_account_id, _NONE, _NO_NAME).where(
        blocks.c.account_id == _VIEWER, blocks.c.target_account_id.in_(_AUTHORS)
    ),
    select(literal("blocked"), blocks.c.account_id, _NONE, _NO_NAME).where(
        blocks.c.target_account_id == _VIEWER, blocks.c.account_id.in_(_AUTHORS)
    ),
    select(literal("followed"), follows.c.target_account_id, _NONE, _NO_NAME).where(
        follows.c.account_id == _VIEWER,
        follows.c.target_account_id.in_(_AUTHORS),
        follows.c.state == "accepted",
    ),
]
EVERYTHING_ELSE = union_all(*_ABOUT_POSTS, *_ABOUT_VIEWER)
EVERYTHING_ELSE_ANONYMOUS = union_all(*_ABOUT_POSTS)


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
    found = await conn.execute(STATUS_ROWS, {"ids": list(ids)})
    rows = {r["id"]: r for r in found.mappings()}
    authors = await account_service.get_many(conn, {r["account_id"] for r in rows.values()})
    rows = {i: r for i, r in rows.items() if r["account_id"] in authors}  # suspended: gone
    every = list(rows)
    standing = await _everything_else(conn, every, set(authors), viewer_id, batch)
    if screen:
        rows = {i: r for i, r in rows.items() if _visible(r, viewer_id, batch, *standing)}
    batch.rows, batch.authors = rows, authors
    batch.order = [i for i in ids if _showable(i, rows, authors)]
    return batch


def _visible(
    row: Row, viewer_id: int | None, batch: Posts, blocked: set[int], followed: set[int]
) -> bool:
    author = row["account_id"]
    if author != viewer_id and author in blocked:
        return False
    mentioned = viewer_id is not None and any(
        who == viewer_id for who, _ in batch.mentions.get(row["id"], ())
    )
    return rules.visible_to(row["visibility"], author, viewer_id, author in followed, mentioned)


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


async def notifications(
    conn: AsyncConnection, rows: Sequence[Row], viewer_id: int
) -> Notifications:
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


async def _everything_else(
    conn: AsyncConnection, ids: list[int], authors: set[int], viewer_id: int | None, batch: Posts
) -> tuple[set[int], set[int]]:
    """Mentions, tags and the viewer's flags into ``batch``; returns (blocked, followed)."""
    blocked: set[int] = set()
    followed: set[int] = set()
    if viewer_id is None:
        result = await conn.execute(EVERYTHING_ELSE_ANONYMOUS, {"ids": ids})
    else:
        params = {"ids": ids, "authors": list(authors) or [0], "viewer": viewer_id}
        result = await conn.execute(EVERYTHING_ELSE, params)
    for kind, key, other_id, name in result:
        if kind == "m":
            batch.mentions.setdefault(key, []).append((other_id, name))
        elif kind == "t":
            batch.tags.setdefault(key, []).append(name)
        elif kind == "blocked":
            blocked.add(key)
        elif kind == "followed":
            followed.add(key)
        else:
            getattr(batch, kind).add(key)
    return blocked, followed
