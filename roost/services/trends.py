"""Trending posts (public original posts ranked by recent favourites and reposts, decayed by
age), tags and links (by the people who shared them), each computed at most once per
``ROOST_TRENDS_REFRESH`` and kept in process (a public read, cheap to serve under load).

Only accounts in good standing count, as authors and as the people who favourite or repost:
not suspended, and older than ``ROOST_TRENDS_ACCOUNT_AGE`` (a day), so a batch of fresh
accounts can neither trend nor push a post into trends. Self-favourites and self-reposts do
not count.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.ids import id_floor
from roost.services import search, social, tags
from roost.services.context import Context, Row, now
from roost.store.tables import accounts, favourites, preview_cards, statuses

BUCKET_HOURS = 6  # interactions are counted in six-hour buckets ...
BUCKETS = 8  # ... over the last two days
HALF_LIFE_HOURS = 6.0  # a favourite counts half as much six hours later
POST_MAX_AGE = timedelta(days=7)  # older posts no longer trend
KEPT = 200  # ranked posts kept; clients ask for at most 40 at offsets


def _good(table, moment: datetime, age: float):
    """An account in good standing at ``moment``: not suspended, not brand new."""
    return and_(
        table.c.suspended_at.is_(None), table.c.created_at <= moment - timedelta(seconds=age)
    )


def _bounds(moment: datetime) -> list[datetime]:
    """The lower bound of each bucket, newest first."""
    return [moment - timedelta(hours=BUCKET_HOURS * (n + 1)) for n in range(BUCKETS)]


def _bucketed(column, bounds: list[datetime], floor=lambda b: b) -> list:
    counts = []
    for n, low in enumerate(bounds):
        within = column >= floor(low)
        if n:
            within = and_(within, column < floor(bounds[n - 1]))
        counts.append(func.count(case((within, 1))))
    return counts


def _favourites(moment: datetime, age: float):
    post, author, fan = statuses.alias("post"), accounts.alias("author"), accounts.alias("fan")
    bounds = _bounds(moment)
    return (
        select(post.c.id, *_bucketed(favourites.c.created_at, bounds))
        .select_from(favourites)
        .join(post, post.c.id == favourites.c.status_id)
        .join(author, author.c.id == post.c.account_id)
        .join(fan, fan.c.id == favourites.c.account_id)
        .where(
            favourites.c.created_at >= bounds[-1],
            *_eligible(post, moment),
            _good(author, moment, age),
            _good(fan, moment, age),
            fan.c.id != author.c.id,
        )
        .group_by(post.c.id)
    )


def _reposts(moment: datetime, age: float):
    post, author, fan = statuses.alias("post"), accounts.alias("author"), accounts.alias("fan")
    repost = statuses.alias("repost")
    bounds = _bounds(moment)
    return (
        select(post.c.id, *_bucketed(repost.c.id, bounds, id_floor))
        .select_from(repost)
        .join(post, post.c.id == repost.c.reblog_of_id)
        .join(author, author.c.id == post.c.account_id)
        .join(fan, fan.c.id == repost.c.account_id)
        .where(
            repost.c.id >= id_floor(bounds[-1]),
            *_eligible(post, moment),
            _good(author, moment, age),
            _good(fan, moment, age),
            fan.c.id != author.c.id,
        )
        .group_by(post.c.id)
    )


def _eligible(post, moment: datetime) -> list:
    """Public, original (not a repost, not a reply), and recent."""
    return [
        post.c.visibility == "public",
        post.c.reblog_of_id.is_(None),
        post.c.in_reply_to_id.is_(None),
        post.c.id >= id_floor(moment - POST_MAX_AGE),
    ]


WEIGHTS = [0.5 ** (n * BUCKET_HOURS / HALF_LIFE_HOURS) for n in range(BUCKETS)]


async def ranked(conn: AsyncConnection, moment: datetime, age: float) -> list[int]:
    """Post ids by decayed score, best first (ties: newer first), at most ``KEPT``."""
    scores: dict[int, float] = {}
    for query in (_favourites(moment, age), _reposts(moment, age)):
        for post_id, *counts in (await conn.execute(query)).all():
            gained = sum(c * w for c, w in zip(counts, WEIGHTS, strict=True))
            scores[post_id] = scores.get(post_id, 0.0) + gained
    best = sorted((p for p, s in scores.items() if s > 0), key=lambda p: (-scores[p], -p))
    return best[:KEPT]


async def statuses_trending(ctx: Context, conn: AsyncConnection) -> list[int]:
    """The ranked ids, from this process's copy while it is younger than the refresh period."""
    kept = ctx.extras.get("trending_statuses")
    refresh = ctx.settings.trends_refresh
    if kept is not None and time.monotonic() - kept[0] < refresh:
        return kept[1]
    found = await ranked(conn, now(), ctx.settings.trends_account_age)
    ctx.extras["trending_statuses"] = (time.monotonic(), found)
    return found


async def statuses_for(
    ctx: Context, conn: AsyncConnection, viewer_id: int | None, limit: int, offset: int
) -> list[int]:
    """A slice of the trending posts, without authors the viewer blocked, muted or is blocked
    by (the visibility rule itself is applied when they are loaded)."""
    ids = await statuses_trending(ctx, conn)
    if viewer_id is not None and ids:
        hidden = await social.hidden_ids(conn, viewer_id)
        if hidden:
            authors = await _authors(conn, ids)
            ids = [i for i in ids if authors.get(i) not in hidden]
    return ids[offset : offset + limit]


async def _authors(conn: AsyncConnection, ids: list[int]) -> dict[int, int]:
    query = select(statuses.c.id, statuses.c.account_id).where(statuses.c.id.in_(ids))
    return {status_id: account_id for status_id, account_id in (await conn.execute(query)).all()}


TAGS_KEPT = 40  # trending tags kept (clients ask for at most 20)


async def tags_trending(ctx: Context, conn: AsyncConnection) -> list[tuple[str, list[dict]]]:
    """(name, seven days of history) of the trending tags (``search.trending_tags``), from this
    process's copy while it is younger than the refresh period: a public read, cheap to serve."""
    kept = ctx.extras.get("trending_tags")
    if kept is not None and time.monotonic() - kept[0] < ctx.settings.trends_refresh:
        return kept[1]
    moment = now()
    born_before = moment - timedelta(seconds=ctx.settings.trends_account_age)
    since = id_floor(moment - POST_MAX_AGE)
    rows = await search.trending_tags(conn, since, TAGS_KEPT, born_before)
    weeks = await tags.histories(ctx, conn, [tag_id for tag_id, _ in rows])
    found = [(name, weeks[tag_id]) for tag_id, name in rows]
    ctx.extras["trending_tags"] = (time.monotonic(), found)
    return found


LINKS_KEPT = 40  # trending links kept (clients ask for at most 20)


async def links_trending(ctx: Context, conn: AsyncConnection) -> list[tuple[Row, list[dict]]]:
    """(card, seven days of history) of the links the most people shared in public posts of
    the last seven days, counted as tags are: people, not posts, and only accounts in good
    standing; kept in process for the refresh period like the other trends."""
    kept = ctx.extras.get("trending_links")
    if kept is not None and time.monotonic() - kept[0] < ctx.settings.trends_refresh:
        return kept[1]
    moment = now()
    born_before = moment - timedelta(seconds=ctx.settings.trends_account_age)
    people = func.count(func.distinct(statuses.c.account_id))
    ranked = await conn.execute(
        select(preview_cards)
        .join(statuses, statuses.c.card_id == preview_cards.c.id)
        .join(accounts, accounts.c.id == statuses.c.account_id)
        .where(
            statuses.c.id >= id_floor(moment - POST_MAX_AGE),
            statuses.c.visibility == "public",
            statuses.c.reblog_of_id.is_(None),
            accounts.c.suspended_at.is_(None),
            accounts.c.created_at < born_before,
            preview_cards.c.state == "ready",
        )
        .group_by(*preview_cards.c)
        .order_by(people.desc(), func.count().desc(), preview_cards.c.id.desc())
        .limit(LINKS_KEPT)
    )
    rows = list(ranked.mappings())
    weeks = await _link_histories(conn, [r["id"] for r in rows], moment)
    found = [(row, weeks[row["id"]]) for row in rows]
    ctx.extras["trending_links"] = (time.monotonic(), found)
    return found


async def _link_histories(
    conn: AsyncConnection, card_ids: list[int], moment: datetime
) -> dict[int, list[dict]]:
    """Each card's last seven days (today first) of public posts sharing it and of people
    who did, in one statement: each day is a range of post ids, as a tag's week is."""
    days = tags.week_days(moment)
    found = await conn.execute(
        select(statuses.c.card_id, *tags.day_columns(statuses.c.id, days))
        .where(
            statuses.c.card_id.in_(card_ids or [0]),
            statuses.c.id >= id_floor(days[-1]),
            statuses.c.visibility == "public",
        )
        .group_by(statuses.c.card_id)
    )
    return tags.weeks({row[0]: row[1:] for row in found}, card_ids, days)
