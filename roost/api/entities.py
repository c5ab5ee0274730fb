"""Mastodon entities (Account, Status, Notification, Relationship, Tag...) from our rows.

Statuses are rendered in batches: one page of a timeline costs a fixed handful of queries
(statuses, reblogged originals, authors, the viewer's favourites/reblogs/bookmarks, mentions,
tags), never one query per post.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, literal, select, union_all
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.services import accounts as account_service
from roost.services import posts as post_service
from roost.services.context import Context
from roost.services.social import Relationship
from roost.store.tables import (
    accounts,
    bookmarks,
    favourites,
    mentions,
    status_tags,
    statuses,
    tags,
)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    text = moment.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if "+" in text else text + "Z"


def date_only(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


def account(ctx: Context, row: RowMapping) -> dict:
    base = ctx.base_url
    url = f"{base}/@{row['username']}"
    return {
        "id": str(row["id"]),
        "username": row["username"],
        "acct": row["username"],
        "display_name": row["display_name"] or "",
        "locked": bool(row["locked"]),
        "bot": bool(row["bot"]),
        "discoverable": True,
        "group": False,
        "created_at": iso(_midnight(row["created_at"])),
        "note": row["note_html"] or "",
        "url": url,
        "uri": url,
        "avatar": f"{base}/static/avatar.png",
        "avatar_static": f"{base}/static/avatar.png",
        "header": f"{base}/static/header.png",
        "header_static": f"{base}/static/header.png",
        "followers_count": row["followers_count"],
        "following_count": row["following_count"],
        "statuses_count": row["statuses_count"],
        "last_status_at": date_only(row["last_status_at"]),
        "emojis": [],
        "fields": [],
    }


def _midnight(moment: datetime) -> datetime:
    """Mastodon shows account creation to the day, at midnight UTC."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def credential_account(ctx: Context, row: RowMapping) -> dict:
    entity = account(ctx, row)
    entity["source"] = {
        "privacy": "public",
        "sensitive": False,
        "language": "",
        "note": row["note"] or "",
        "fields": [],
        "follow_requests_count": 0,
    }
    entity["role"] = {
        "id": "0",
        "name": row["role"],
        "permissions": "0",
        "color": "",
        "highlighted": False,
    }
    return entity


def relationship(rel: Relationship) -> dict:
    return {
        "id": str(rel.id),
        "following": rel.following,
        "showing_reblogs": rel.showing_reblogs,
        "notifying": False,
        "languages": None,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting,
        "requested": rel.requested,
        "requested_by": False,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def tag(ctx: Context, name: str, history: list | None = None) -> dict:
    return {
        "name": name,
        "url": f"{ctx.base_url}/tags/{name}",
        "history": history or [],
        "following": False,
    }


async def statuses_by_id(
    ctx: Context,
    conn: AsyncConnection,
    ids: list[int],
    viewer_id: int | None,
    screen: bool = True,
) -> list[dict]:
    """Status entities for ``ids`` in the same order; ids that no longer exist, and (with
    ``screen``) those the viewer may not see now, are skipped.

    Every read path renders here, so this is where the one visibility rule is applied at the
    last moment: a feed or a notification made when a post was visible (a mention since
    edited away, a follow since ended) does not show it any more. Only the fan-out's stream
    rendering skips it (``screen=False``): it chose the audience itself.
    """
    if not ids:
        return []
    rows = await _rows(conn, ids)
    originals = {r["reblog_of_id"] for r in rows.values() if r["reblog_of_id"]}
    missing = originals - rows.keys()
    if missing:
        rows.update(await _rows(conn, list(missing)))
    authors = await account_service.get_many(conn, {r["account_id"] for r in rows.values()})
    if screen:
        seen = await post_service.visible_subset(
            conn, list(rows.values()), viewer_id, live_authors=set(authors)
        )
        rows = {r["id"]: r for r in seen}
    every = list(rows)
    mention_map, tag_map = await _mentions_and_tags(conn, every)
    flags = await _viewer_flags(conn, viewer_id, every)
    people = {i: account(ctx, row) for i, row in authors.items()}  # rendered once a page
    out: list[dict] = []
    for status_id in ids:
        row = rows.get(status_id)
        if row is None or row["account_id"] not in authors:
            continue
        original = rows.get(row["reblog_of_id"]) if row["reblog_of_id"] else None
        if row["reblog_of_id"] and (original is None or original["account_id"] not in authors):
            continue
        parts = (ctx, people, mention_map, tag_map, flags)
        entity = _status(row, *parts)
        if original is not None:
            entity["reblog"] = _status(original, *parts)
            entity["reblogged"] = entity["reblog"]["reblogged"]
        out.append(entity)
    return out


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


async def _rows(conn: AsyncConnection, ids: list[int]) -> dict[int, RowMapping]:
    result = await conn.execute(STATUS_ROWS, {"ids": list(ids)})
    return {r["id"]: r for r in result.mappings()}


async def _mentions_and_tags(
    conn: AsyncConnection, ids: list[int]
) -> tuple[dict[int, list[tuple[int, str]]], dict[int, list[str]]]:
    """Who each status mentions and which tags it carries: one query for both."""
    mentioned: dict[int, list[tuple[int, str]]] = {}
    tagged: dict[int, list[str]] = {}
    for kind, status_id, other_id, name in await conn.execute(MENTIONS_AND_TAGS, {"ids": ids}):
        if kind == "m":
            mentioned.setdefault(status_id, []).append((other_id, name))
        else:
            tagged.setdefault(status_id, []).append(name)
    return mentioned, tagged


async def _viewer_flags(conn, viewer_id: int | None, ids: list[int]) -> dict[str, set[int]]:
    """Which of ``ids`` the viewer favourited, bookmarked, reblogged: one query."""
    flags: dict[str, set[int]] = {"favourited": set(), "reblogged": set(), "bookmarked": set()}
    if viewer_id is None:
        return flags
    params = {"viewer": viewer_id, "ids": ids}
    for kind, status_id in await conn.execute(VIEWER_FLAGS, params):
        flags[kind].add(status_id)
    return flags


def _status(row, ctx, people, mention_map, tag_map, flags) -> dict:
    author = people[row["account_id"]]
    base = ctx.base_url
    url = f"{base}/@{author['username']}/{row['id']}"
    return {
        "id": str(row["id"]),
        "uri": url,
        "url": url,
        "created_at": iso(row["created_at"]),
        "edited_at": iso(row["edited_at"]),
        "account": author,
        "content": row["content_html"],
        "text": row["text"] or None,
        "visibility": row["visibility"],
        "sensitive": bool(row["sensitive"]),
        "spoiler_text": row["spoiler_text"] or "",
        "media_attachments": [],
        "application": None,
        "mentions": [
            {"id": str(i), "username": name, "acct": name, "url": f"{base}/@{name}"}
            for i, name in mention_map.get(row["id"], [])
        ],
        "tags": [{"name": n, "url": f"{base}/tags/{n}"} for n in tag_map.get(row["id"], [])],
        "emojis": [],
        "reblogs_count": row["reblogs_count"],
        "favourites_count": row["favourites_count"],
        "replies_count": row["replies_count"],
        "in_reply_to_id": _str(row["in_reply_to_id"]),
        "in_reply_to_account_id": _str(row["in_reply_to_account_id"]),
        "reblog": None,
        "poll": None,
        "card": None,
        "language": row["language"],
        "favourited": row["id"] in flags["favourited"],
        "reblogged": row["id"] in flags["reblogged"],
        "bookmarked": row["id"] in flags["bookmarked"],
        "muted": False,
        "pinned": False,
        "filtered": [],
    }


def status_edit(ctx: Context, revision, author: RowMapping) -> dict:
    """One revision of a status (Mastodon's StatusEdit)."""
    return {
        "content": revision["content_html"],
        "spoiler_text": revision["spoiler_text"] or "",
        "sensitive": bool(revision["sensitive"]),
        "created_at": iso(revision["created_at"]),
        "account": account(ctx, author),
        "media_attachments": [],
        "emojis": [],
    }


def _str(value: int | None) -> str | None:
    return None if value is None else str(value)


async def render_for_stream(ctx: Context, status_id: int) -> dict | None:
    """A status as streamed to everyone (no viewer-specific flags)."""
    async with ctx.db.read() as conn:
        found = await statuses_by_id(ctx, conn, [status_id], None, screen=False)
    return found[0] if found else None


async def notifications(
    ctx: Context, conn: AsyncConnection, rows: list[RowMapping], viewer_id: int
) -> list[dict]:
    senders = await account_service.get_many(conn, {r["from_account_id"] for r in rows})
    status_ids = [r["status_id"] for r in rows if r["status_id"]]
    found = {s["id"]: s for s in await statuses_by_id(ctx, conn, status_ids, viewer_id)}
    out = []
    for row in rows:
        sender = senders.get(row["from_account_id"])
        if sender is None:
            continue
        status = found.get(str(row["status_id"])) if row["status_id"] else None
        if row["status_id"] and status is None:
            continue
        entity = {
            "id": str(row["id"]),
            "type": row["type"],
            "created_at": iso(row["created_at"]),
            "account": account(ctx, sender),
        }
        if status is not None:
            entity["status"] = status
        out.append(entity)
    return out
