"""Threads: a post's line up and the replies under it, as the viewer may see them."""

from __future__ import annotations

from sqlalchemy import BindParameter, Select, bindparam, literal, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.errors import NotFound
from roost.services.posts import visible_subset
from roost.store.hot import Hot
from roost.store.tables import statuses

MAX_THREAD = 200  # ancestors/descendants shown in one context
THREAD_DEPTH = 100  # levels of replies followed under a post
_ROOT: BindParameter = bindparam("root")
_THREAD_COLUMNS = (
    statuses.c.id,
    statuses.c.account_id,
    statuses.c.visibility,
    statuses.c.in_reply_to_id,
)


def _ancestry() -> Select:
    """The post (depth 0) and the chain of posts it replies to, nearest first."""
    seed = select(statuses.c.id, literal(0).label("depth")).where(statuses.c.id == _ROOT)
    up = seed.cte("up", recursive=True)
    up = up.union_all(
        select(statuses.c.in_reply_to_id, up.c.depth + 1).where(
            statuses.c.id == up.c.id,
            statuses.c.in_reply_to_id.is_not(None),
            up.c.depth < MAX_THREAD,
        )
    )
    return select(up.c.depth, *_THREAD_COLUMNS).join_from(up, statuses, statuses.c.id == up.c.id)


def _replies() -> Select:
    """Every reply under the post, to any depth (up to ``THREAD_DEPTH``), oldest first."""
    seed = select(statuses.c.id, literal(1).label("depth")).where(
        statuses.c.in_reply_to_id == _ROOT
    )
    down = seed.cte("down", recursive=True)
    down = down.union_all(
        select(statuses.c.id, down.c.depth + 1).where(
            statuses.c.in_reply_to_id == down.c.id, down.c.depth < THREAD_DEPTH
        )
    )
    return (
        select(*_THREAD_COLUMNS)
        .join_from(down, statuses, statuses.c.id == down.c.id)
        .order_by(statuses.c.id)
    )


# A thread in two statements (its line up, its replies down) and one visibility check for
# all of it, where walking it level by level cost two or three statements a level.
ANCESTRY = Hot(_ancestry())
REPLIES = Hot(_replies())


async def context(
    conn: AsyncConnection, status_id: int, viewer_id: int | None
) -> tuple[list[int], list[int]]:
    """Ids of ancestors (oldest first) and descendants (level by level, each level oldest
    first): the line up stops at the first post the viewer may not see, and nothing under a
    reply they may not see is shown. 404 for a post they may not see."""
    line = {row["depth"]: row for row in await ANCESTRY.mappings(conn, {"root": status_id})}
    if 0 not in line:
        raise NotFound("Record")
    replies = await REPLIES.mappings(conn, {"root": status_id})
    everything = [*line.values(), *replies]
    seen = {row["id"] for row in await visible_subset(conn, everything, viewer_id)}
    if status_id not in seen:
        raise NotFound("Record")
    ancestors: list[int] = []
    for depth in range(1, len(line)):
        parent = line.get(depth)
        if parent is None or parent["id"] not in seen:
            break
        ancestors.append(parent["id"])
    return list(reversed(ancestors)), _levels(status_id, replies, seen)


def _levels(root_id: int, replies: list[RowMapping], seen: set[int]) -> list[int]:
    """The replies the viewer may see, level by level under ``root_id``, a level oldest first,
    up to ``MAX_THREAD`` (a level is never cut)."""
    children: dict[int, list[int]] = {}
    for row in replies:  # oldest first, so each list is too
        children.setdefault(row["in_reply_to_id"], []).append(row["id"])
    out: list[int] = []
    frontier = [root_id]
    while frontier and len(out) < MAX_THREAD:
        level = sorted(child for parent in frontier for child in children.get(parent, ()))
        frontier = [child for child in level if child in seen]
        out.extend(frontier)
    return out
