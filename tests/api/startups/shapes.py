"""The shape a client reads in an answer (the keys it decodes, their types), and the
entities as the five apps read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# --- A small language for "the shape the client reads" -----------------------------------------


class _Id:
    """A Mastodon id: a string of ASCII digits (never a JSON number)."""


class _Date:
    """An ISO 8601 date or time, as a string."""


ID, DATE = _Id(), _Date()


@dataclass(frozen=True)
class Opt:
    """null, or the shape."""

    spec: Any


@dataclass(frozen=True)
class Maybe:
    """The key may be left out, or be null, or have the shape (Mastodon leaves a follow
    notification's `status` out; Swift optionals and Kotlin nullables read that as null)."""

    spec: Any


@dataclass(frozen=True)
class OneOf:
    """One of these strings (an enum the client decodes into a closed type)."""

    values: tuple[str, ...]

    def __init__(self, *values: str) -> None:
        object.__setattr__(self, "values", values)


@dataclass(frozen=True)
class NonEmpty:
    """A list with at least one item, each of the shape (the seeded data must show up)."""

    spec: Any


def problems(value: Any, spec: Any, where: str = "$") -> list[str]:
    """What in ``value`` does not have ``spec``'s shape (empty when it has)."""
    if isinstance(spec, Opt | Maybe):
        return [] if value is None else problems(value, spec.spec, where)
    if isinstance(spec, NonEmpty):
        if not isinstance(value, list) or not value:
            return [f"{where}: a non-empty array expected, got {value!r:.80}"]
        return problems(value, [spec.spec], where)
    if spec is ID:
        ok = isinstance(value, str) and value.isascii() and value.isdigit()
        return [] if ok else [f"{where}: an id as a string of digits expected, got {value!r}"]
    if spec is DATE:
        try:
            datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return [f"{where}: an ISO 8601 string expected, got {value!r}"]
        return []
    if isinstance(spec, OneOf):
        return [] if value in spec.values else [f"{where}: one of {spec.values}, got {value!r}"]
    if isinstance(spec, list):
        if not isinstance(value, list):
            return [f"{where}: an array expected, got {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in problems(item, spec[0], f"{where}[{i}]")]
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return [f"{where}: an object expected, got {type(value).__name__}"]
        found = []
        for key, inner in spec.items():
            if key not in value:
                if not isinstance(inner, Maybe):
                    found.append(f"{where}.{key}: missing")
            else:
                found.extend(problems(value[key], inner, f"{where}.{key}"))
        return found
    if spec is int:  # a JSON bool is not a count
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: an integer expected, got {value!r}"]
    if isinstance(spec, type):
        ok = isinstance(value, spec)
        return [] if ok else [f"{where}: {spec.__name__} expected, got {value!r:.80}"]
    raise TypeError(f"not a shape: {spec!r}")


# --- The entities, as the five clients read them ------------------------------------------------

EMOJI = {"shortcode": str, "url": str, "static_url": str, "visible_in_picker": bool}
FIELD = {"name": str, "value": str, "verified_at": Opt(str)}
# Ice Cubes Models/Account.swift (id, username, acct, avatar, header: URL, note, created_at,
# fields, locked, emojis, bot required); Tusky entity/TimelineAccount.kt and Account.kt
# (url, avatar, note, acct, username; Account also header, created_at); Elk reads acct, id.
ACCOUNT = {
    "id": ID,
    "username": str,
    "acct": str,
    "display_name": str,
    "locked": bool,
    "bot": bool,
    "created_at": DATE,
    "note": str,
    "url": str,
    "avatar": str,
    "avatar_static": str,
    "header": str,
    "header_static": str,
    "followers_count": int,
    "following_count": int,
    "statuses_count": int,
    "emojis": [EMOJI],
    "fields": [FIELD],
}
# Elk timeline.ts removeFilteredItems reads filter.filter_action and filter.context; Ice Cubes
# Models/Filter.swift (id, title, context, filter_action); Tusky entity/FilterResult.kt.
FILTER_RESULT = {
    "filter": {
        "id": ID,
        "title": str,
        "context": [OneOf("home", "notifications", "public", "thread", "account")],
        "filter_action": OneOf("warn", "hide"),
        "expires_at": Opt(DATE),
    },
    "keyword_matches": Opt([str]),
    "status_matches": Opt([ID]),
}
MENTION = {"id": ID, "username": str, "url": str, "acct": str}  # Ice Cubes Mention.swift
VISIBILITY = OneOf("public", "unlisted", "private", "direct")
# Ice Cubes Models/Status.swift and Tusky entity/Status.kt (non-optional fields); toot
# tui/entities.py reads id, created_at, account.acct/display_name/username, reblog.
STATUS = {
    "id": ID,
    "uri": str,
    "url": Opt(str),
    "created_at": DATE,
    "edited_at": Opt(DATE),
    "account": ACCOUNT,
    "content": str,
    "visibility": VISIBILITY,
    "sensitive": bool,
    "spoiler_text": str,
    "media_attachments": [dict],
    "mentions": [MENTION],
    "tags": [{"name": str, "url": str}],
    "emojis": [EMOJI],
    "reblogs_count": int,
    "favourites_count": int,
    "replies_count": int,
    "in_reply_to_id": Opt(ID),
    "in_reply_to_account_id": Opt(ID),
    "reblog": Opt(dict),
    "poll": Opt(dict),
    "card": Opt(dict),
    "application": Opt(dict),
    "language": Opt(str),
    "favourited": bool,
    "reblogged": bool,
    "bookmarked": bool,
    "muted": bool,
    "pinned": bool,
    "filtered": [FILTER_RESULT],
}
NOTIFICATION_TYPES = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
)
# Ice Cubes Models/Notification.swift; Tusky entity/Notification.kt (type is a closed enum).
NOTIFICATION = {
    "id": ID,
    "type": OneOf(*NOTIFICATION_TYPES),
    "created_at": DATE,
    "account": ACCOUNT,
    "status": Maybe(STATUS),
}
# Ice Cubes Models/Marker.swift and Tusky entity/Marker.kt: all three required.
MARKER = {"last_read_id": ID, "version": int, "updated_at": DATE}
LIST = {"id": ID, "title": str, "replies_policy": OneOf("followed", "list", "none")}
HISTORY = {"day": str, "uses": str, "accounts": str}
# Ice Cubes Models/Tag.swift: name, url, following, history all required.
TAG = {"name": str, "url": str, "history": [HISTORY], "following": bool}
# Tusky entity/Announcement.kt: all_day, published_at, updated_at, mentions, tags, emojis,
# reactions required.
ANNOUNCEMENT = {
    "id": ID,
    "content": str,
    "starts_at": Opt(DATE),
    "ends_at": Opt(DATE),
    "all_day": bool,
    "published_at": DATE,
    "updated_at": DATE,
    "read": bool,
    "mentions": list,
    "statuses": list,
    "tags": list,
    "emojis": list,
    "reactions": list,
}
# Tusky entity/Filter.kt and FilterKeyword.kt; Ice Cubes ServerFilter.swift.
FILTER_V2 = {
    "id": ID,
    "title": str,
    "context": [OneOf("home", "notifications", "public", "thread", "account")],
    "filter_action": OneOf("warn", "hide"),
    "expires_at": Opt(DATE),
    "keywords": [{"id": ID, "keyword": str, "whole_word": bool}],
}
PREFERENCES = {
    "posting:default:visibility": VISIBILITY,
    "posting:default:sensitive": bool,
    "posting:default:language": Opt(str),
    "reading:expand:media": OneOf("default", "show_all", "hide_all"),
    "reading:expand:spoilers": bool,
}
CONVERSATION = {"id": ID, "unread": bool, "accounts": [ACCOUNT], "last_status": Opt(STATUS)}
APP = {"client_id": str, "client_secret": str, "id": ID, "name": str}
NODEINFO = {"software": {"name": str, "version": str}}
