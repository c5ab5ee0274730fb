"""Pages of relations, newest first, by name: followers, following, follow requests, blocks
and mutes (an account's), favourites, bookmarks and followed tags (one's own), and who
favourited or reposted a post. Each page is (relation id, other id) pairs: the relation id is
the cursor Mastodon's Link header pages by."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.services.posts import get_visible
from roost.services.timelines import Page
from roost.store.tables import (
    blocks,
    bookmarks,
    favourites,
    follows,
    mutes,
    statuses,
    tag_follows,
)


class Relation(NamedTuple):
    table: Table
    owner: ColumnElement  # whose list it is
    other: ColumnElement  # what the list holds
    only: ColumnElement | None = None


RELATIONS = {
    "followers": Relation(
        follows, follows.c.target_account_id, follows.c.account_id, follows.c.state == "accepted"
    ),
    "following": Relation(
        follows, follows.c.account_id, follows.c.target_account_id, follows.c.state == "accepted"
    ),
    "follow_requests": Relation(
        follows, follows.c.target_account_id, follows.c.account_id, follows.c.state == "pending"
    ),
    "blocked": Relation(blocks, blocks.c.account_id, blocks.c.target_account_id),
    "muted": Relation(mutes, mutes.c.account_id, mutes.c.target_account_id),
    "favourites": Relation(favourites, favourites.c.account_id, favourites.c.status_id),
    "bookmarks": Relation(bookmarks, bookmarks.c.account_id, bookmarks.c.status_id),
    "followed_tags": Relation(tag_follows, tag_follows.c.account_id, tag_follows.c.tag_id),
    # who acted on a post: the owner is the post
    "favourited_by": Relation(favourites, favourites.c.status_id, favourites.c.account_id),
    "reblogged_by": Relation(statuses, statuses.c.reblog_of_id, statuses.c.account_id),
}


async def page(
    conn: AsyncConnection, kind: str, owner_id: int, window: Page
) -> list[tuple[int, int]]:
    """One page of ``owner_id``'s relation ``kind`` (a key of ``RELATIONS``), newest first."""
    relation = RELATIONS[kind]
    key = relation.table.c.id
    query = select(key, relation.other).where(relation.owner == owner_id)
    if relation.only is not None:
        query = query.where(relation.only)
    if window.max_id is not None:
        query = query.where(key < window.max_id)
    if window.lower is not None:
        query = query.where(key > window.lower)
    result = await conn.execute(query.order_by(key.desc()).limit(window.limit))
    return [(r[0], r[1]) for r in result]


async def actors(
    conn: AsyncConnection, kind: str, status_id: int, viewer_id: int | None, window: Page
) -> list[tuple[int, int]]:
    """Who favourited or reposted a post the viewer may see (404 for one they may not)."""
    row = await get_visible(conn, status_id, viewer_id)
    return await page(conn, kind, row["id"], Page(max_id=window.max_id, limit=window.limit))
