"""Mastodon entities (Account, Status, Notification, Relationship, Tag...) shaped from what
services loaded: no queries here (``roost.services.hydrate`` loads a page first), so the API,
the web pages and the streams show the same thing the same way.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from roost.domain.filtering import Match
from roost.present.cards import preview_card
from roost.present.media import attached
from roost.present.polls import poll as poll_entity
from roost.services import conversations as conversation_service
from roost.services import filters as filter_service
from roost.services import hydrate
from roost.services.context import Context, shelf
from roost.services.featured import Featured
from roost.services.lists import AccountList
from roost.services.preferences import Preferences
from roost.services.shelf import Shelf
from roost.services.social import Relationship

Row = Any  # a RowMapping from services, read by column name


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    text = moment.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if "+" in text else text + "Z"


def date_only(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


def account(ctx: Context, row: Row) -> dict:
    base = ctx.base_url
    url = f"{base}/@{row['username']}"
    avatar, header = pictures(ctx, row)
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
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": row["followers_count"],
        "following_count": row["following_count"],
        "statuses_count": row["statuses_count"],
        "last_status_at": date_only(row["last_status_at"]),
        "emojis": [],
        "fields": [],
    }


def pictures(ctx: Context, row: Row) -> tuple[str, str]:
    """The account's avatar and header URLs: its own, or the defaults for those who set none."""
    base, files = ctx.base_url, ctx.media_files
    avatar, header = row["avatar_key"], row["header_key"]
    return (
        files.url(avatar) if avatar else f"{base}/static/avatar.png",
        files.url(header) if header else f"{base}/static/header.png",
    )


def _midnight(moment: datetime) -> datetime:
    """Mastodon shows account creation to the day, at midnight UTC."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def credential_account(ctx: Context, row: Row, defaults: Preferences) -> dict:
    entity = account(ctx, row)
    entity["source"] = {
        "privacy": defaults.privacy,
        "sensitive": defaults.sensitive,
        "language": defaults.language or "",
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
        "note": rel.note,
    }


def featured_tag(ctx: Context, username: str, found: Featured) -> dict:
    return {
        "id": str(found.id),
        "name": found.name,
        "url": f"{ctx.base_url}/@{username}/tagged/{found.name}",
        "statuses_count": found.statuses_count,
        "last_status_at": date_only(found.last_status_at),
    }


def account_list(found: AccountList) -> dict:
    """Mastodon's ``List`` entity."""
    return {
        "id": str(found.id),
        "title": found.title,
        "replies_policy": found.replies_policy,
        "exclusive": found.exclusive,
    }


def tag(ctx: Context, name: str, history: list | None = None, following: bool = False) -> dict:
    return {
        "name": name,
        "url": f"{ctx.base_url}/tags/{name}",
        "history": history or [],
        "following": following,
    }


def filter_summary(
    filter_id: int, title: str, context: Sequence[str], expires_at: datetime | None, action: str
) -> dict:
    """A Filter as a FilterResult carries it (no keywords or posts)."""
    return {
        "id": str(filter_id),
        "title": title,
        "context": list(context),
        "expires_at": iso(expires_at),
        "filter_action": action,
    }


def filter_results(matches: Sequence[Match]) -> list[dict]:
    """Mastodon's FilterResult for each filter a post matched (the ``filtered`` key)."""
    return [
        {
            "filter": filter_summary(
                m.rule.filter_id, m.rule.title, m.rule.contexts, m.rule.expires_at, m.rule.action
            ),
            "keyword_matches": list(m.keywords) or None,
            "status_matches": [str(m.status_id)] if m.chosen else None,
        }
        for m in matches
    ]


def announcement(row: Row, read: bool) -> dict:
    """Mastodon's Announcement: Roost's have no mentions, linked posts, emojis or reactions."""
    return {
        "id": str(row["id"]),
        "content": row["content_html"],
        "starts_at": iso(row["starts_at"]),
        "ends_at": iso(row["ends_at"]),
        "all_day": bool(row["all_day"]),
        "published_at": iso(row["published_at"]),
        "updated_at": iso(row["updated_at"]),
        "read": read,
        "mentions": [],
        "statuses": [],
        "tags": [],
        "emojis": [],
        "reactions": [],
    }


async def statuses_by_id(
    ctx: Context,
    conn,
    ids: list[int],
    viewer_id: int | None,
    screen: bool = True,
    shared: bool = False,
    context: str | None = None,
) -> list[dict]:
    """Status entities for ``ids`` in order, as ``viewer_id`` may see them now (load, render).

    ``shared``: a read outside any write transaction, which may take what every viewer sees
    alike from this process's shelf (``roost.services.shelf``) and leave it there.
    ``context``: where they are shown (home, public, thread, account...): posts the viewer's
    ``hide`` filters catch there leave (``roost.services.filters.screen``); None hides none,
    though every entity still says what the viewer's filters matched.
    """
    batch = await hydrate.posts(conn, ids, viewer_id, screen, shelf_of(ctx, shared))
    await filter_service.screen(ctx, conn, batch, viewer_id, context)
    return statuses(ctx, batch)


def shelf_of(ctx: Context, shared: bool) -> Shelf | None:
    return shelf(ctx) if shared else None


def statuses(ctx: Context, batch: hydrate.Posts) -> list[dict]:
    # Rendered entities are kept on the shelf with the very rows they were rendered from: a row
    # loaded again (it changed) is a new object, and its entity is rendered again.
    rendered = batch.shelf.rendered if batch.shelf is not None else {}
    people = _people(ctx, batch, rendered)
    return [_entity(batch.rows[i], ctx, people, batch, rendered) for i in batch.order]


def _entity(row: Row, ctx: Context, people: dict, batch: hydrate.Posts, rendered: dict) -> dict:
    """One status as the viewer sees it, as a dictionary."""
    entity = _as_seen(_shown(row, ctx, people, batch, rendered), batch)
    if row["reblog_of_id"]:
        original = batch.rows[row["reblog_of_id"]]
        entity["reblog"] = _as_seen(_shown(original, ctx, people, batch, rendered), batch)
        entity["reblogged"] = entity["reblog"]["reblogged"]
    matched = batch.filtered.get(row["reblog_of_id"] or row["id"])
    if matched:  # on the repost and on the post it shows, as clients read either
        entity["filtered"] = filter_results(matched)
        if entity["reblog"] is not None:
            entity["reblog"]["filtered"] = entity["filtered"]
    return entity


async def statuses_json_by_id(
    ctx: Context,
    conn,
    ids: list[int],
    viewer_id: int | None,
    shared: bool = False,
    context: str | None = None,
) -> list[tuple[int, bytes]]:
    """The entities of ``statuses_by_id`` with their ids, each already serialised as
    ``orjson`` would, joined from pieces kept on the shelf: a page is not copied and encoded
    again for every reader (``json_array`` makes the page). ``context`` as there."""
    batch = await hydrate.posts(conn, ids, viewer_id, True, shelf_of(ctx, shared))
    await filter_service.screen(ctx, conn, batch, viewer_id, context)
    return statuses_json(ctx, batch)


def statuses_json(ctx: Context, batch: hydrate.Posts) -> list[tuple[int, bytes]]:
    """(id, ``orjson.dumps`` of its entity) for each of ``statuses(ctx, batch)``, byte for
    byte."""
    rendered = batch.shelf.rendered if batch.shelf is not None else {}
    people = _people(ctx, batch, rendered)
    out = []
    for status_id in batch.order:
        row = batch.rows[status_id]
        original_id = row["reblog_of_id"] or status_id  # a repost shows the original's flag
        out.append((status_id, _entity_json(row, original_id, ctx, people, batch, rendered)))
    return out


def _entity_json(
    row: Row, original_id: int, ctx: Context, people: dict, batch: hydrate.Posts, rendered: dict
) -> bytes:
    """One status's JSON as the viewer sees it: as kept when they set no flag on a post that
    reposts nothing (most of a page), else its pieces joined around the flags. A post with a
    poll is shown per viewer and per moment (its counts, ``expired``, ``own_votes``), so it is
    encoded whole from its dictionary: polls are rare, and such a post is never kept."""
    if original_id in batch.polls:
        return orjson.dumps(_entity(row, ctx, people, batch, rendered))
    whole, head, middle, tail = _pieces(row, ctx, people, batch, rendered)
    status_id = row["id"]
    flags = _flags(status_id, original_id, batch)
    matched = batch.filtered.get(original_id)
    if matched:  # the viewer's filter results replace the empty list that ends every entity
        tail = tail[: -len(_NOT_FILTERED)] + b'"filtered":%s}' % orjson.dumps(
            filter_results(matched)
        )
    if original_id == status_id:
        return (
            whole if flags is _NO_FLAGS and not matched else head + b"null" + middle + flags + tail
        )
    original = batch.rows[original_id]
    reblog = _entity_json(original, original_id, ctx, people, batch, rendered)
    return head + reblog + middle + flags + tail


def json_array(items: Sequence[tuple[int, bytes]]) -> bytes:
    """The JSON array of serialised entities."""
    return b"[" + b",".join(text for _, text in items) + b"]"


_REBLOG = b'"reblog":'
_NOT_FILTERED = b'"filtered":[]}'  # how every entity ends (the last key of ``_status``)
_FLAG_NAMES = (b"favourited", b"reblogged", b"bookmarked", b"muted", b"pinned")
_FLAGS = {
    flags: b",".join(
        b'"%s":%s' % (name, b"true" if on else b"false")
        for name, on in zip(_FLAG_NAMES, flags, strict=True)
    )
    for flags in itertools.product((False, True), repeat=len(_FLAG_NAMES))
}
_NO_FLAGS = _FLAGS[(False,) * len(_FLAG_NAMES)]  # as every entity is rendered before the flags


def _flags(status_id: int, reposted_id: int, batch: hydrate.Posts) -> bytes:
    return _FLAGS[
        status_id in batch.favourited,
        reposted_id in batch.reblogged,
        status_id in batch.bookmarked,
        status_id in batch.muted,
        status_id in batch.pinned,
    ]


def _pieces(
    row: Row, ctx: Context, people: dict, batch: hydrate.Posts, rendered: dict
) -> tuple[bytes, bytes, bytes, bytes]:
    """A shown status's JSON, whole and in three pieces, kept with the rows it was made from:
    up to ``"reblog":``, from there to the viewer's flags, and after them (the key names are
    found once: only the top object has them, and a quote inside a string is escaped)."""
    author = batch.authors[row["account_id"]]
    kept = rendered.get(("j", row["id"]))
    if kept is None or kept[0] is not row or kept[1] is not author:
        text = orjson.dumps(_shown(row, ctx, people, batch, rendered))
        cut = text.index(_REBLOG) + len(_REBLOG)
        flags = text.index(_NO_FLAGS, cut)
        pieces = (
            text,
            text[:cut],
            text[cut + len(b"null") : flags],
            text[flags + len(_NO_FLAGS) :],
        )
        kept = rendered["j", row["id"]] = (row, author, pieces)
    return kept[2]


def _people(ctx: Context, batch: hydrate.Posts, rendered: dict) -> dict[int, dict]:
    """The authors' entities, rendered once for their rows."""
    people = {}
    for account_id, row in batch.authors.items():
        kept = rendered.get(("a", account_id))
        if kept is None or kept[0] is not row:
            kept = rendered["a", account_id] = (row, account(ctx, row))
        people[account_id] = kept[1]
    return people


def _shown(row: Row, ctx: Context, people: dict, batch: hydrate.Posts, rendered: dict) -> dict:
    """A status as everyone sees it (the viewer's flags unset), rendered once for its rows."""
    author = batch.authors[row["account_id"]]
    kept = rendered.get(("s", row["id"]))
    if kept is None or kept[0] is not row or kept[1] is not author:
        kept = rendered["s", row["id"]] = (row, author, _status(row, ctx, people, batch))
    return kept[2]


def _as_seen(shown: dict, batch: hydrate.Posts) -> dict:
    """A copy of ``shown`` with the viewer's own flags: the nested entities stay shared."""
    entity = dict(shown)
    status_id = int(entity["id"])
    entity["favourited"] = status_id in batch.favourited
    entity["reblogged"] = status_id in batch.reblogged
    entity["bookmarked"] = status_id in batch.bookmarked
    entity["muted"] = status_id in batch.muted
    entity["pinned"] = status_id in batch.pinned
    found = batch.polls.get(status_id)
    if found is not None:
        entity["poll"] = poll_entity(found, batch.viewer_id)
    return entity


def _status(row: Row, ctx: Context, people: dict[int, dict], batch: hydrate.Posts) -> dict:
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
        "media_attachments": attached(ctx, row["media_attachments"]),
        "application": None,
        "mentions": [
            {"id": str(i), "username": name, "acct": name, "url": f"{base}/@{name}"}
            for i, name in batch.mentions.get(row["id"], [])
        ],
        "tags": [{"name": n, "url": f"{base}/tags/{n}"} for n in batch.tags.get(row["id"], [])],
        "emojis": [],
        "reblogs_count": row["reblogs_count"],
        "favourites_count": row["favourites_count"],
        "replies_count": row["replies_count"],
        "in_reply_to_id": _str(row["in_reply_to_id"]),
        "in_reply_to_account_id": _str(row["in_reply_to_account_id"]),
        "reblog": None,
        "poll": None,
        "card": _card(ctx, batch.cards.get(row["id"])),
        "language": row["language"],
        "favourited": False,  # the viewer's flags (_FLAG_NAMES, in order): set per read
        "reblogged": False,
        "bookmarked": False,
        "muted": False,
        "pinned": False,
        "filtered": [],
    }


def status_edit(ctx: Context, revision, author: Row) -> dict:
    """One revision of a status (Mastodon's StatusEdit)."""
    return {
        "content": revision["content_html"],
        "spoiler_text": revision["spoiler_text"] or "",
        "sensitive": bool(revision["sensitive"]),
        "created_at": iso(revision["created_at"]),
        "account": account(ctx, author),
        "media_attachments": attached(ctx, revision["media_attachments"]),
        "emojis": [],
    }


def _card(ctx: Context, row: Row | None) -> dict | None:
    return None if row is None else preview_card(row, ctx.media_files)


def _str(value: int | None) -> str | None:
    return None if value is None else str(value)


async def render_for_stream(ctx: Context, status_id: int) -> dict | None:
    """A status as streamed to everyone (no viewer-specific flags)."""
    found = statuses(ctx, await hydrate.for_stream(ctx, status_id))
    return found[0] if found else None


async def conversations(ctx: Context, conn, rows: Sequence[Row], viewer_id: int) -> list[dict]:
    """Conversation entities (load, render): the others in each thread and its last post as
    the viewer sees it (null if deleted or hidden since)."""
    loaded = await conversation_service.load(conn, list(rows), viewer_id)
    found = {s["id"]: s for s in statuses(ctx, loaded.posts)}
    return [
        {
            "id": str(row["id"]),
            "unread": bool(row["unread"]),
            "accounts": [
                account(ctx, loaded.people[i])
                for i in conversation_service.participants(row["participant_ids"])
                if i in loaded.people
            ],
            "last_status": found.get(str(row["last_status_id"])),
        }
        for row in loaded.rows
    ]


async def notifications(ctx: Context, conn, rows: Sequence[Row], viewer_id: int) -> list[dict]:
    """Notification entities (load, render); those whose sender or post is gone are left out,
    and those whose post the viewer's ``hide`` filters catch in the notifications context."""
    batch = await hydrate.notifications(conn, rows, viewer_id)
    await filter_service.screen(ctx, conn, batch.posts, viewer_id, "notifications")
    shown = set(batch.posts.order)
    found = {s["id"]: s for s in statuses(ctx, batch.posts)}
    out = []
    for row in batch.rows:
        if row["status_id"] and row["status_id"] not in shown:
            continue
        entity = {
            "id": str(row["id"]),
            "type": row["type"],
            "created_at": iso(row["created_at"]),
            "account": account(ctx, batch.senders[row["from_account_id"]]),
        }
        if row["status_id"]:
            entity["status"] = found[str(row["status_id"])]
        out.append(entity)
    return out
