"""Hashtags as things to follow: a tag's card (its week of use), following and unfollowing it,
the viewer's followed tags, and who follows a post's tags (fan-out delivers public posts with a
followed tag to the follower's home timeline, as Mastodon 4 does)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.errors import NotFound
from roost.domain.ids import id_floor
from roost.domain.text import normalize_tag
from roost.services import relations, tag_weeks
from roost.services.context import Context, now
from roost.services.timelines import Page
from roost.store.db import Tx
from roost.store.tables import follows, status_tags, statuses, tag_follows, tags

HISTORY_DAYS = 7


@dataclass(frozen=True)
class TagCard:
    """What Mastodon's ``Tag`` entity says: the name, a week of use, and whether the viewer
    follows it (always False for an anonymous viewer)."""

    name: str
    history: list[dict]
    following: bool


def tag_name(text: str) -> str:
    """A tag name from a path (``#`` and case do not matter); 404 for one that cannot be."""
    name = normalize_tag(text)
    if name is None:
        raise NotFound()
    return name


async def card(ctx: Context, conn: AsyncConnection, name: str, viewer_id: int | None) -> TagCard:
    """A tag's card; 404 if nobody has used or followed it."""
    tag_id = await conn.scalar(select(tags.c.id).where(tags.c.name == name))
    if tag_id is None:
        raise NotFound()
    following = viewer_id is not None and await _follow_id(conn, viewer_id, tag_id) is not None
    return TagCard(name, await history(ctx, conn, tag_id), following)


async def history(ctx: Context, conn: AsyncConnection, tag_id: int) -> list[dict]:
    """Public posts and distinct authors per UTC day, today first, for the last seven days
    (strings, as Mastodon sends them)."""
    return (await histories(ctx, conn, [tag_id]))[tag_id]


async def histories(
    ctx: Context, conn: AsyncConnection, tag_ids: list[int]
) -> dict[int, list[dict]]:
    """``history`` for several tags, each kept a few seconds in process (``tag_weeks``):
    counting a busy tag's week costs milliseconds, and the card is on every hashtag page."""
    found = tag_weeks.kept(ctx, tag_ids)
    missing = [t for t in tag_ids if t not in found]
    if missing:
        counted = await _count_histories(conn, missing)
        tag_weeks.keep(ctx, counted)
        found.update(counted)
    return found


async def _count_histories(conn: AsyncConnection, tag_ids: list[int]) -> dict[int, list[dict]]:
    """The weeks of several tags in one statement (each day is a range of post ids), so a page
    of 200 followed tags is one query, not 200."""
    days = week_days(now())
    found = await conn.execute(
        select(status_tags.c.tag_id, *day_columns(status_tags.c.status_id, days))
        .select_from(status_tags.join(statuses, statuses.c.id == status_tags.c.status_id))
        .where(
            status_tags.c.tag_id.in_(tag_ids),
            status_tags.c.status_id >= id_floor(days[-1]),
            statuses.c.visibility == "public",
        )
        .group_by(status_tags.c.tag_id)
    )
    return weeks({row[0]: row[1:] for row in found}, tag_ids, days)


def week_days(moment: datetime) -> list[datetime]:
    """The last ``HISTORY_DAYS`` days' midnights (UTC), today first."""
    today = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=n) for n in range(HISTORY_DAYS)]


def day_columns(post_id: Any, days: list[datetime]) -> list:
    """Per day, the posts and the distinct people among the rows: each day is a range of post
    ids (snowflakes carry their time), so a week is one statement over an index."""
    columns = []
    for n, day in enumerate(days):
        within = post_id >= id_floor(day)
        if n:  # up to the next day
            within = and_(within, post_id < id_floor(days[n - 1]))
        columns.append(func.count(case((within, 1))))
        columns.append(func.count(func.distinct(case((within, statuses.c.account_id)))))
    return columns


def weeks(counts: dict[int, tuple], ids: list[int], days: list[datetime]) -> dict[int, list]:
    """Mastodon's ``history`` (day, uses, accounts as strings) of each of ``ids``, from the
    ``day_columns`` counted for it (none: a quiet week)."""
    quiet = (0,) * (2 * len(days))
    return {
        key: [
            {
                "day": str(int(day.timestamp())),
                "uses": str(counts.get(key, quiet)[2 * n]),
                "accounts": str(counts.get(key, quiet)[2 * n + 1]),
            }
            for n, day in enumerate(days)
        ]
        for key in ids
    }


async def follow(ctx: Context, tx: Tx, viewer_id: int, name: str) -> TagCard:
    """Follow a tag (made if nobody has used it yet, as Mastodon does); following twice is
    following once."""
    tag_id = await tx.conn.scalar(select(tags.c.id).where(tags.c.name == name))
    if tag_id is None:
        tag_id = ctx.ids.next_id()
        await tx.conn.execute(insert(tags).values(id=tag_id, name=name, created_at=now()))
    if await _follow_id(tx.conn, viewer_id, tag_id) is None:
        await tx.conn.execute(
            insert(tag_follows).values(
                id=ctx.ids.next_id(), account_id=viewer_id, tag_id=tag_id, created_at=now()
            )
        )
    return TagCard(name, await history(ctx, tx.conn, tag_id), True)


async def unfollow(ctx: Context, tx: Tx, viewer_id: int, name: str) -> TagCard:
    """Stop following a tag (posts it brought stay in the home timeline, as Mastodon's do);
    404 for a tag that does not exist."""
    tag_id = await tx.conn.scalar(select(tags.c.id).where(tags.c.name == name))
    if tag_id is None:
        raise NotFound()
    await tx.conn.execute(
        delete(tag_follows).where(
            tag_follows.c.account_id == viewer_id, tag_follows.c.tag_id == tag_id
        )
    )
    return TagCard(name, await history(ctx, tx.conn, tag_id), False)


async def followed(
    ctx: Context, conn: AsyncConnection, viewer_id: int, window: Page
) -> tuple[list[TagCard], list[int]]:
    """A page of the viewer's followed tags, newest follow first, and the follows' ids (the
    cursors of the Link header)."""
    pairs = await relations.page(conn, "followed_tags", viewer_id, window)
    names = dict(
        (
            await conn.execute(
                select(tags.c.id, tags.c.name).where(tags.c.id.in_([t for _, t in pairs]))
            )
        ).all()
    )
    weeks = await histories(ctx, conn, list(names))
    cards = [TagCard(names[t], weeks[t], True) for _, t in pairs if t in names]
    return cards, [follow_id for follow_id, _ in pairs]


async def followers_of_post(conn: AsyncConnection, status_id: int, author_id: int) -> list[int]:
    """Who follows any of a post's tags and does not follow its author (those have the post
    already, pushed or merged at read time), each once."""
    follows_author = exists(
        select(follows.c.id).where(
            follows.c.account_id == tag_follows.c.account_id,
            follows.c.target_account_id == author_id,
            follows.c.state == "accepted",
        )
    )
    found = await conn.scalars(
        select(tag_follows.c.account_id)
        .join(status_tags, status_tags.c.tag_id == tag_follows.c.tag_id)
        .where(
            status_tags.c.status_id == status_id,
            tag_follows.c.account_id != author_id,
            ~follows_author,
        )
        .distinct()
    )
    return list(found)


async def _follow_id(conn: AsyncConnection, viewer_id: int, tag_id: int) -> int | None:
    return await conn.scalar(
        select(tag_follows.c.id).where(
            tag_follows.c.account_id == viewer_id, tag_follows.c.tag_id == tag_id
        )
    )
