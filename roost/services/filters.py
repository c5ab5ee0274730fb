"""Filters, as Mastodon 4 keeps them: a person's named filter applies in some contexts (home,
notifications, public, thread, account), warns or hides, may end, and matches keywords (whole
words or anywhere) and chosen posts. Version 1 of the API saw each keyword as a filter of its
own; those calls are served from the same rows (``v1_*``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain import text
from roost.domain.errors import Invalid, NotFound
from roost.domain.filtering import Rule, searchable
from roost.services.context import Context, now
from roost.services.hydrate import Posts
from roost.services.posts import get_visible
from roost.store.db import Tx
from roost.store.tables import filter_keywords, filter_statuses, filters

CONTEXTS = ("home", "notifications", "public", "thread", "account")
ACTIONS = ("warn", "hide")
MAX_FILTERS = 100  # per account
MAX_KEYWORDS = 100  # per filter
MAX_STATUSES = 100  # per filter
MAX_TITLE = 200
MAX_KEYWORD = 512
LONGEST = timedelta(days=3650)  # the furthest end a filter may have
RULES_TTL = 30.0  # s a viewer's rules are kept; how long another process's change can go unseen
RULES_KEPT = 10_000  # viewers whose rules are kept at once


@dataclass(frozen=True)
class Keyword:
    id: int
    filter_id: int
    keyword: str
    whole_word: bool


@dataclass(frozen=True)
class FilteredStatus:
    id: int
    filter_id: int
    status_id: int


@dataclass
class Filter:
    id: int
    title: str
    context: list[str]
    action: str
    expires_at: datetime | None
    keywords: list[Keyword] = field(default_factory=list)
    statuses: list[FilteredStatus] = field(default_factory=list)


@dataclass(frozen=True)
class Change:
    """What a create or update asks: ``None`` leaves a field as it is (update); ``expires_in``
    is seconds, ``""`` for no end."""

    title: str | None = None
    context: list[str] | None = None
    action: str | None = None
    expires_in: Any = None
    keywords: list[dict] = field(default_factory=list)


# --- filters ------------------------------------------------------------------------------------


async def all_of(conn: AsyncConnection, owner: int) -> list[Filter]:
    """The owner's filters, oldest first (as Mastodon lists them), with keywords and posts."""
    rows = (
        await conn.execute(
            select(filters).where(filters.c.account_id == owner).order_by(filters.c.id)
        )
    ).mappings()
    return await _complete(conn, [_filter(row) for row in rows])


async def one(conn: AsyncConnection, owner: int, filter_id: int) -> Filter:
    """One of the owner's filters; 404 for anyone else's (or none)."""
    row = (
        (
            await conn.execute(
                select(filters).where(filters.c.id == filter_id, filters.c.account_id == owner)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound()
    return (await _complete(conn, [_filter(row)]))[0]


async def create(ctx: Context, tx: Tx, owner: int, change: Change) -> Filter:
    _forget_rules(ctx, tx, owner)
    count = await tx.conn.scalar(select(func.count()).where(filters.c.account_id == owner))
    if (count or 0) >= MAX_FILTERS:
        raise Invalid("filters", f"at most {MAX_FILTERS}")
    if change.title is None or change.context is None:
        raise Invalid("title and context", "are required")
    filter_id = ctx.ids.next_id()
    values = _checked(change, creating=True)
    await tx.conn.execute(
        insert(filters).values(id=filter_id, account_id=owner, created_at=now(), **values)
    )
    await _apply_keywords(ctx, tx, filter_id, change.keywords)
    return await one(tx.conn, owner, filter_id)


async def change(ctx: Context, tx: Tx, owner: int, filter_id: int, asked: Change) -> Filter:
    await one(tx.conn, owner, filter_id)
    _forget_rules(ctx, tx, owner)
    values = _checked(asked, creating=False)
    if values:
        await tx.conn.execute(update(filters).where(filters.c.id == filter_id).values(**values))
    await _apply_keywords(ctx, tx, filter_id, asked.keywords)
    return await one(tx.conn, owner, filter_id)


async def remove(ctx: Context, tx: Tx, owner: int, filter_id: int) -> None:
    await one(tx.conn, owner, filter_id)
    _forget_rules(ctx, tx, owner)
    await tx.conn.execute(delete(filters).where(filters.c.id == filter_id))


def _checked(change: Change, creating: bool) -> dict[str, Any]:
    """The columns a change sets, each checked (a 422 naming the field)."""
    values: dict[str, Any] = {}
    if change.title is not None:
        title = text.clean(change.title).strip()
        if not title or len(title) > MAX_TITLE:
            raise Invalid("title", f"must be 1 to {MAX_TITLE} characters")
        values["title"] = title
    if change.context is not None:
        wrong = [c for c in change.context if c not in CONTEXTS]
        if not change.context or wrong:
            raise Invalid("context", "must be one or more of " + ", ".join(CONTEXTS))
        values["context"] = ",".join(dict.fromkeys(change.context))
    if change.action is not None or creating:
        values["action"] = change.action or "warn"
    if change.expires_in is not None or creating:
        values["expires_at"] = _end(change.expires_in)
    return values


def _end(expires_in: Any) -> datetime | None:
    if expires_in in (None, ""):
        return None
    try:
        seconds = int(expires_in)
    except (TypeError, ValueError):
        raise Invalid("expires_in", "must be a number of seconds") from None
    if not 0 < seconds <= LONGEST.total_seconds():
        raise Invalid("expires_in", "must be between 1 second and 10 years")
    return now() + timedelta(seconds=seconds)


# --- keywords -----------------------------------------------------------------------------------


async def _apply_keywords(ctx: Context, tx: Tx, filter_id: int, asked: list[dict]) -> None:
    """``keywords_attributes``: new keywords, changed ones (with ``id``), ``_destroy``ed ones."""
    for item in asked:
        keyword_id = item.get("id")
        if keyword_id is None:
            await _add_keyword(ctx, tx, filter_id, item.get("keyword"), item.get("whole_word"))
            continue
        mine = filter_keywords.c.id == keyword_id, filter_keywords.c.filter_id == filter_id
        if item.get("_destroy"):
            await tx.conn.execute(delete(filter_keywords).where(*mine))
        else:
            found = await tx.conn.scalar(select(filter_keywords.c.id).where(*mine))
            if found is None:
                raise NotFound()
            await _set_keyword(tx, keyword_id, item.get("keyword"), item.get("whole_word"))


async def keywords_of(conn: AsyncConnection, owner: int, filter_id: int) -> list[Keyword]:
    return (await one(conn, owner, filter_id)).keywords


async def add_keyword(
    ctx: Context, tx: Tx, owner: int, filter_id: int, keyword: str | None, whole_word: bool | None
) -> Keyword:
    await one(tx.conn, owner, filter_id)
    return await keyword_of(
        tx.conn, owner, await _add_keyword(ctx, tx, filter_id, keyword, whole_word)
    )


async def keyword_of(conn: AsyncConnection, owner: int, keyword_id: int) -> Keyword:
    """One of the owner's keywords; 404 for anyone else's."""
    row = (
        (
            await conn.execute(
                select(filter_keywords)
                .join(filters, filters.c.id == filter_keywords.c.filter_id)
                .where(filter_keywords.c.id == keyword_id, filters.c.account_id == owner)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound()
    return _keyword(row)


async def change_keyword(
    ctx: Context, tx: Tx, owner: int, keyword_id: int, keyword: str | None, whole_word: bool | None
) -> Keyword:
    await keyword_of(tx.conn, owner, keyword_id)
    _forget_rules(ctx, tx, owner)
    await _set_keyword(tx, keyword_id, keyword, whole_word)
    return await keyword_of(tx.conn, owner, keyword_id)


async def remove_keyword(ctx: Context, tx: Tx, owner: int, keyword_id: int) -> Keyword:
    found = await keyword_of(tx.conn, owner, keyword_id)
    _forget_rules(ctx, tx, owner)
    await tx.conn.execute(delete(filter_keywords).where(filter_keywords.c.id == keyword_id))
    return found


async def _add_keyword(
    ctx: Context, tx: Tx, filter_id: int, keyword: str | None, whole_word: bool | None
) -> int:
    count = await tx.conn.scalar(
        select(func.count()).where(filter_keywords.c.filter_id == filter_id)
    )
    if (count or 0) >= MAX_KEYWORDS:
        raise Invalid("keywords", f"at most {MAX_KEYWORDS} a filter")
    keyword_id = ctx.ids.next_id()
    await tx.conn.execute(
        insert(filter_keywords).values(
            id=keyword_id,
            filter_id=filter_id,
            keyword=_keyword_text(keyword),
            whole_word=True if whole_word is None else whole_word,
        )
    )
    return keyword_id


async def _set_keyword(tx: Tx, keyword_id: int, keyword: str | None, whole_word: bool | None):
    values: dict[str, Any] = {}
    if keyword is not None:
        values["keyword"] = _keyword_text(keyword)
    if whole_word is not None:
        values["whole_word"] = whole_word
    if values:
        await tx.conn.execute(
            update(filter_keywords).where(filter_keywords.c.id == keyword_id).values(**values)
        )


def _keyword_text(keyword: str | None) -> str:
    cleaned = text.clean(keyword).strip()
    if not cleaned or len(cleaned) > MAX_KEYWORD:
        raise Invalid("keyword", f"must be 1 to {MAX_KEYWORD} characters")
    return cleaned


# --- chosen posts -------------------------------------------------------------------------------


async def statuses_of(conn: AsyncConnection, owner: int, filter_id: int) -> list[FilteredStatus]:
    return (await one(conn, owner, filter_id)).statuses


async def add_status(
    ctx: Context, tx: Tx, owner: int, filter_id: int, status_id: int | None
) -> FilteredStatus:
    """Filter one post the owner can see (404 for one they cannot); adding it twice is a 422."""
    found = await one(tx.conn, owner, filter_id)
    _forget_rules(ctx, tx, owner)
    if status_id is None:
        raise Invalid("status_id", "is required")
    await get_visible(tx.conn, status_id, owner)
    if any(s.status_id == status_id for s in found.statuses):
        raise Invalid("status_id", "is filtered already")
    if len(found.statuses) >= MAX_STATUSES:
        raise Invalid("statuses", f"at most {MAX_STATUSES} a filter")
    made = ctx.ids.next_id()
    await tx.conn.execute(
        insert(filter_statuses).values(id=made, filter_id=filter_id, status_id=status_id)
    )
    return FilteredStatus(made, filter_id, status_id)


async def status_of(conn: AsyncConnection, owner: int, filtered_id: int) -> FilteredStatus:
    row = (
        (
            await conn.execute(
                select(filter_statuses)
                .join(filters, filters.c.id == filter_statuses.c.filter_id)
                .where(filter_statuses.c.id == filtered_id, filters.c.account_id == owner)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound()
    return FilteredStatus(row["id"], row["filter_id"], row["status_id"])


async def remove_status(ctx: Context, tx: Tx, owner: int, filtered_id: int) -> FilteredStatus:
    found = await status_of(tx.conn, owner, filtered_id)
    _forget_rules(ctx, tx, owner)
    await tx.conn.execute(delete(filter_statuses).where(filter_statuses.c.id == filtered_id))
    return found


# --- version 1: each keyword a filter -----------------------------------------------------------


@dataclass(frozen=True)
class V1Filter:
    keyword: Keyword
    parent: Filter


async def v1_all(conn: AsyncConnection, owner: int) -> list[V1Filter]:
    return [V1Filter(k, f) for f in await all_of(conn, owner) for k in f.keywords]


async def v1_one(conn: AsyncConnection, owner: int, keyword_id: int) -> V1Filter:
    keyword = await keyword_of(conn, owner, keyword_id)
    return V1Filter(keyword, await one(conn, owner, keyword.filter_id))


async def v1_create(
    ctx: Context, tx: Tx, owner: int, change: Change, irreversible: bool, whole_word: bool
) -> V1Filter:
    """A v1 filter: a v2 filter titled with its phrase, holding that one keyword."""
    phrase = _keyword_text(change.title)
    made = await create(
        ctx,
        tx,
        owner,
        Change(
            title=phrase[:MAX_TITLE],
            context=change.context,
            action="hide" if irreversible else "warn",
            expires_in=change.expires_in,
            keywords=[{"keyword": phrase, "whole_word": whole_word}],
        ),
    )
    return V1Filter(made.keywords[0], made)


async def v1_change(
    ctx: Context,
    tx: Tx,
    owner: int,
    keyword_id: int,
    change: Change,
    irreversible: bool | None,
    whole_word: bool | None,
) -> V1Filter:
    found = await v1_one(tx.conn, owner, keyword_id)
    _forget_rules(ctx, tx, owner)
    await _set_keyword(tx, keyword_id, change.title, whole_word)
    action = None if irreversible is None else ("hide" if irreversible else "warn")
    values = _checked(
        Change(context=change.context, action=action, expires_in=change.expires_in), False
    )
    if values:
        await tx.conn.execute(
            update(filters).where(filters.c.id == found.parent.id).values(**values)
        )
    return await v1_one(tx.conn, owner, keyword_id)


async def v1_remove(ctx: Context, tx: Tx, owner: int, keyword_id: int) -> None:
    """Remove the keyword, and its filter once nothing is left in it."""
    found = await v1_one(tx.conn, owner, keyword_id)
    await remove_keyword(ctx, tx, owner, keyword_id)
    if len(found.parent.keywords) == 1 and not found.parent.statuses:
        await remove(ctx, tx, owner, found.parent.id)


# --- rules for reading: a viewer's filters, ready to match, kept a few seconds -----------------


async def rules_for(ctx: Context, conn: AsyncConnection, viewer_id: int) -> tuple[Rule, ...]:
    """The viewer's filters as ``Rule``s. Read on every page a signed-in person is shown, so kept
    in process (most people have none: an empty tuple); this process's own changes drop the
    entry once committed, other processes' are seen within ``RULES_TTL``."""
    kept: dict[int, tuple[float, tuple[Rule, ...]]] = ctx.extras.setdefault("filter_rules", {})
    entry = kept.get(viewer_id)
    clock = time.monotonic()
    if entry is not None and entry[0] > clock:
        return entry[1]
    rules = tuple(_rule(found) for found in await all_of(conn, viewer_id))
    if len(kept) >= RULES_KEPT:
        kept.clear()
    kept[viewer_id] = (clock + RULES_TTL, rules)
    return rules


def _forget_rules(ctx: Context, tx: Tx, owner: int) -> None:
    """After this write commits, the owner's next page reads their filters again."""

    def forget() -> None:
        ctx.extras.get("filter_rules", {}).pop(owner, None)

    tx.after_commit(forget)


def _rule(found: Filter) -> Rule:
    keywords = tuple((k.keyword, k.whole_word) for k in found.keywords)
    chosen = frozenset(s.status_id for s in found.statuses)
    return Rule(
        found.id,
        found.title,
        found.action,
        tuple(found.context),
        found.expires_at,
        keywords,
        chosen,
    )


async def screen(
    ctx: Context, conn: AsyncConnection, batch: Posts, viewer_id: int | None, context: str | None
) -> None:
    """Apply the viewer's active filters to a loaded page, as Mastodon does: a post matching a
    ``hide`` filter of this ``context`` (home, public, thread, account, notifications; None:
    hide nothing) leaves it; every other match is kept (``batch.filtered``, by the post shown
    inside a repost) for the ``filtered`` key of its entity, where clients judge the filter's
    contexts themselves. One's own posts are never filtered."""
    if viewer_id is None or not batch.order:
        return
    moment = now()
    rules = [rule for rule in await rules_for(ctx, conn, viewer_id) if rule.active(moment)]
    if not rules:
        return
    kept = []
    for status_id in batch.order:
        proper_id = batch.rows[status_id]["reblog_of_id"] or status_id
        proper = batch.rows[proper_id]
        if proper["account_id"] != viewer_id:
            text = searchable(proper["text"], proper["spoiler_text"])
            found = tuple(m for rule in rules if (m := rule.match(proper_id, text)) is not None)
            if any(m.rule.hides_in(context) for m in found):
                continue
            if found:
                batch.filtered[proper_id] = found
        kept.append(status_id)
    batch.order = kept


# --- loading ------------------------------------------------------------------------------------


def _filter(row: Any) -> Filter:
    return Filter(
        row["id"], row["title"], row["context"].split(","), row["action"], row["expires_at"]
    )


def _keyword(row: Any) -> Keyword:
    return Keyword(row["id"], row["filter_id"], row["keyword"], row["whole_word"])


async def _complete(conn: AsyncConnection, found: list[Filter]) -> list[Filter]:
    """The filters with their keywords and posts, in two statements."""
    by_id = {f.id: f for f in found}
    if not by_id:
        return found
    keywords = await conn.execute(
        select(filter_keywords)
        .where(filter_keywords.c.filter_id.in_(list(by_id)))
        .order_by(filter_keywords.c.id)
    )
    for row in keywords.mappings():
        by_id[row["filter_id"]].keywords.append(_keyword(row))
    posts = await conn.execute(
        select(filter_statuses)
        .where(filter_statuses.c.filter_id.in_(list(by_id)))
        .order_by(filter_statuses.c.id)
    )
    for row in posts.mappings():
        by_id[row["filter_id"]].statuses.append(
            FilteredStatus(row["id"], row["filter_id"], row["status_id"])
        )
    return found
