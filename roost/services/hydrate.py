"""Load, then render: everything a page of posts needs, in a fixed handful of queries.

Every face (the API, the web pages, the streams) shows posts the same way: it names the ids
(a timeline, a thread, a search), this module loads what showing them takes (the posts, the
originals of reposts, their authors, mentions, tags and the viewer's favourites, reposts and
bookmarks) and applies the one visibility rule at the last moment, and ``roost.present`` shapes
the result without another query. A page costs the same few queries for 1 post or 40.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BindParameter, bindparam, exists, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import CompoundSelect

from roost.domain import posts as rules
from roost.domain.filtering import Match
from roost.domain.ids import ms_between
from roost.services import accounts as account_service
from roost.services.context import Context
from roost.services.shelf import ACCOUNT_SEEN, STATUS_SEEN, Shelf
from roost.services.tallies import Poll
from roost.services.tallies import load as load_polls
from roost.store.commits import Generation
from roost.store.hot import Hot
from roost.store.tables import (
    accounts,
    blocks,
    bookmarks,
    favourites,
    follows,
    mentions,
    preview_cards,
    status_pins,
    status_tags,
    status_threads,
    statuses,
    tags,
    thread_mutes,
)

Row = Any  # a RowMapping, read by column name
# a post's row, its mentions and tags, and its preview card's row (None: it has none)
Facts = tuple[Row, list[tuple[int, str]], list[str], Row | None]


@dataclass
class Posts:
    """A page of posts ready to show: ``order`` holds the ids that survived, as asked."""

    order: list[int] = field(default_factory=list)
    rows: dict[int, Row] = field(default_factory=dict)  # the posts and reposted originals
    authors: dict[int, Row] = field(default_factory=dict)
    mentions: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    tags: dict[int, list[str]] = field(default_factory=dict)
    cards: dict[int, Row] = field(default_factory=dict)  # by post, for those that have one
    favourited: set[int] = field(default_factory=set)
    reblogged: set[int] = field(default_factory=set)
    bookmarked: set[int] = field(default_factory=set)
    muted: set[int] = field(default_factory=set)  # in a thread the viewer muted
    pinned: set[int] = field(default_factory=set)  # the viewer's own, pinned to their profile
    # what the viewer's filters matched, by the post shown (services.filters.screen)
    filtered: dict[int, tuple[Match, ...]] = field(default_factory=dict)
    polls: dict[int, Poll] = field(default_factory=dict)  # by post, read per viewer, never kept
    viewer_id: int | None = None  # whom the polls were read for
    shelf: Shelf | None = None  # where rendered entities may be kept, if read from it


@dataclass
class Notifications:
    """A page of notifications: each kept row's sender is in ``senders``, its post in ``posts``."""

    rows: list[Row]
    senders: dict[int, Row]
    posts: Posts


# Statements are built once, at import: building one per call cost more than running it, and
# they run on the driver itself (roost.store.hot). A page costs four: the posts with the
# originals they repost, their authors, their mentions and tags (all three the same for every
# viewer, and kept on the shelf between reads), and one union about the viewer (favourites,
# reposts, bookmarks, and their blocks among the authors, which the visibility rule needs);
# a fifth, whom they follow among the authors, only for others' followers-only posts.
_IDS: BindParameter = bindparam("ids", expanding=True)
_AUTHORS: BindParameter = bindparam("authors", expanding=True)
_VIEWER: BindParameter = bindparam("viewer")
_LOW: BindParameter = bindparam("low")
_HIGH: BindParameter = bindparam("high")
STATUS_ROWS = Hot(
    select(statuses).where(
        statuses.c.id.in_(_IDS)
        | statuses.c.id.in_(select(statuses.c.reblog_of_id).where(statuses.c.id.in_(_IDS)))
    )
)
_ABOUT_POSTS = [
    select(literal("m"), mentions.c.status_id, accounts.c.id, accounts.c.username)
    .join(accounts, accounts.c.id == mentions.c.account_id)
    .where(mentions.c.status_id.in_(_IDS)),
    select(literal("t"), status_tags.c.status_id, tags.c.id, tags.c.name)
    .join(tags, tags.c.id == status_tags.c.tag_id)
    .where(status_tags.c.status_id.in_(_IDS)),
]


def _viewer_question(among: Callable[[Any], Any]) -> CompoundSelect:
    """The viewer's favourites, bookmarks, reposts, pins and muted threads of the posts picked
    by ``among``, and
    their blocks either way among the authors. The blocks are asked for only if the viewer has
    any (a constant condition SQLite tests before it builds the list of authors): most have
    none, and building that list twice cost a fifth of the query."""

    def any_block(column) -> Any:
        return exists(select(blocks.c.id).where(column == _VIEWER))

    any_mute = exists(select(thread_mutes.c.id).where(thread_mutes.c.account_id == _VIEWER))

    return union_all(
        select(literal("favourited"), favourites.c.status_id).where(
            favourites.c.account_id == _VIEWER, among(favourites.c.status_id)
        ),
        select(literal("bookmarked"), bookmarks.c.status_id).where(
            bookmarks.c.account_id == _VIEWER, among(bookmarks.c.status_id)
        ),
        select(literal("reblogged"), statuses.c.reblog_of_id).where(
            statuses.c.account_id == _VIEWER, among(statuses.c.reblog_of_id)
        ),
        select(literal("pinned"), status_pins.c.status_id).where(
            status_pins.c.account_id == _VIEWER, among(status_pins.c.status_id)
        ),
        # muted: a post of a thread the viewer muted, or the muted thread's first post itself
        select(literal("muted"), status_threads.c.status_id)
        .join(thread_mutes, thread_mutes.c.thread_id == status_threads.c.thread_id)
        .where(any_mute, thread_mutes.c.account_id == _VIEWER, among(status_threads.c.status_id)),
        select(literal("muted"), thread_mutes.c.thread_id).where(
            thread_mutes.c.account_id == _VIEWER, among(thread_mutes.c.thread_id)
        ),
        select(literal("blocked"), blocks.c.target_account_id).where(
            any_block(blocks.c.account_id),
            blocks.c.account_id == _VIEWER,
            blocks.c.target_account_id.in_(_AUTHORS),
        ),
        select(literal("blocked"), blocks.c.account_id).where(
            any_block(blocks.c.target_account_id),
            blocks.c.target_account_id == _VIEWER,
            blocks.c.account_id.in_(_AUTHORS),
        ),
    )


ABOUT_POSTS = Hot(union_all(*_ABOUT_POSTS))
# The preview cards of a page's posts: asked only when one of its rows has a card.
CARD_ROWS = Hot(select(preview_cards).where(preview_cards.c.id.in_(_IDS)))
# Two forms of the same question: by the page's list of ids, or, when the page was written
# within a day (a timeline's usual page), by the range its ids span, which spares SQLite a
# list per table; the viewer's few extra rows in that range are dropped here.
ABOUT_VIEWER = Hot(_viewer_question(lambda column: column.in_(_IDS)))
ABOUT_VIEWER_SPAN = Hot(_viewer_question(lambda column: column.between(_LOW, _HIGH)))
SPAN_MS = 86_400_000
# Whom the viewer follows among the authors: asked only when a followers-only post of someone
# else is on the page (the one visibility rule needs it for those alone).
FOLLOWED_AMONG = Hot(
    select(follows.c.target_account_id).where(
        follows.c.account_id == _VIEWER,
        follows.c.target_account_id.in_(_AUTHORS),
        follows.c.state == "accepted",
    )
)
# What a check of shelved posts and authors reads (roost.services.shelf).
STATUS_SEEN_ROWS = Hot(
    select(statuses.c.id, *(statuses.c[name] for name in STATUS_SEEN)).where(
        statuses.c.id.in_(_IDS)
    )
)
ACCOUNT_SEEN_ROWS = Hot(
    select(accounts.c.id, *(accounts.c[name] for name in ACCOUNT_SEEN)).where(
        accounts.c.id.in_(_IDS)
    )
)


async def posts(
    conn: AsyncConnection,
    ids: list[int],
    viewer_id: int | None,
    screen: bool = True,
    shelf: Shelf | None = None,
) -> Posts:
    """The posts ``ids`` as ``viewer_id`` may see them now; gone ones are left out.

    Every read path comes through here, so this is where the one visibility rule is applied
    at the last moment: a feed or a notification made when a post was visible (a mention since
    edited away, a follow since ended) does not show it any more. Only the fan-out's stream
    rendering skips it (``screen=False``): it chose the audience itself. With a ``shelf``
    (reads outside a write transaction), what every viewer sees alike comes from it.
    """
    batch = Posts(shelf=shelf, viewer_id=viewer_id)
    if not ids:
        return batch
    if shelf is None:
        shelf = Shelf(Generation())  # a shelf for this read alone
    stamp = shelf.open()
    known = await _rows(conn, ids, shelf, stamp)
    rows = {i: facts[0] for i, facts in known.items() if facts is not None}
    authors = await _authors(conn, {r["account_id"] for r in rows.values()}, shelf, stamp)
    mentions, tags = batch.mentions, batch.tags
    shown: dict[int, Row] = {}
    for status_id, row in rows.items():
        if row["account_id"] in authors:  # else suspended: gone
            shown[status_id] = row
            _row, mentions[status_id], tags[status_id], card = known[status_id]  # type: ignore[misc]
            if card is not None:
                batch.cards[status_id] = card
    blocked = await _about_viewer(conn, list(shown), set(authors), viewer_id, batch)
    # with no block, a public or unlisted post is decided: the rule runs for the others only
    if screen and (blocked or any(r["visibility"] not in _OPEN for r in shown.values())):
        followed = await _followed(conn, shown, viewer_id)
        shown = {
            i: r
            for i, r in shown.items()
            if (r["visibility"] in _OPEN and not blocked)
            or _visible(r, viewer_id, batch, blocked, followed)
        }
    batch.rows, batch.authors = shown, authors
    batch.order = [i for i in ids if _showable(i, shown)]
    # a page without a poll asks nothing more: its rows say so (``poll_votes_count`` NULL)
    polled = {i: r["account_id"] for i, r in shown.items() if r["poll_votes_count"] is not None}
    if polled:
        batch.polls = await load_polls(conn, polled, viewer_id)
    return batch


async def _rows(
    conn: AsyncConnection, ids: list[int], shelf: Shelf, stamp: int
) -> dict[int, Facts | None]:
    """What is known of the posts ``ids`` and the originals they repost: (row, mentions, tags),
    or None for a post that is gone. From the shelf when trusted or found unchanged, else
    loaded (with the originals of the reposts loaded)."""
    shelved = shelf.posts
    wanted = dict.fromkeys(ids)
    for status_id in ids:  # the originals of shelved reposts are checked with them
        entry = shelved.get(status_id)
        if entry is not None and entry.value is not None and entry.value[0]["reblog_of_id"]:
            wanted[entry.value[0]["reblog_of_id"]] = None
    known: dict[int, Facts | None] = {}  # everything asked for
    fresh: dict[int, Facts | None] = {}  # what was checked or loaded now, to keep
    unsure: list[int] = []
    trust = shelf.trust_now()
    missing: list[int] = []
    for status_id in wanted:
        entry = shelved.get(status_id)
        if entry is None:
            missing.append(status_id)
        elif entry.value is None or trust.covers(entry):  # gone is gone for good
            known[status_id] = entry.value
        else:
            unsure.append(status_id)
    if unsure:
        seen = {row[0]: row[1:] for row in await STATUS_SEEN_ROWS.rows(conn, {"ids": unsure})}
        for status_id in unsure:
            facts = shelved[status_id].value
            now_seen = seen.get(status_id, _GONE)
            if now_seen is _GONE:
                fresh[status_id] = None
            elif now_seen == tuple(facts[0][c] for c in STATUS_SEEN):
                fresh[status_id] = facts
                shelf.checked += 1
            else:
                missing.append(status_id)
    if missing:
        fresh.update(await _load(conn, missing))
        shelf.reloaded += len(missing)
    for status_id, facts in fresh.items():  # a trusted entry keeps its stamp and age
        shelf.keep(shelved, status_id, facts, stamp)
    known.update(fresh)
    return known


_GONE: tuple = ()
_OPEN = frozenset((rules.Visibility.PUBLIC, rules.Visibility.UNLISTED))  # for all, blocks aside
_PRIVATE = str(rules.Visibility.PRIVATE)
_SUSPENDED = ACCOUNT_SEEN.index("suspended_at")


async def _load(conn: AsyncConnection, ids: list[int]) -> dict[int, Facts | None]:
    """The posts ``ids`` (and the originals of reposts among them) with mentions, tags and
    preview cards."""
    loaded = {r["id"]: r for r in await STATUS_ROWS.mappings(conn, {"ids": ids})}
    about: dict[int, tuple[list, list]] = {i: ([], []) for i in loaded}
    for kind, key, other_id, name in await ABOUT_POSTS.rows(conn, {"ids": list(loaded)}):
        if kind == "m":
            about[key][0].append((other_id, name))
        else:
            about[key][1].append(name)
    cards = await _cards(conn, loaded.values())
    found: dict[int, Facts | None] = dict.fromkeys(ids)
    found.update({i: (row, *about[i], cards.get(row["card_id"])) for i, row in loaded.items()})
    return found


async def _cards(conn: AsyncConnection, rows) -> dict[int, Row]:
    """The ready cards of ``rows`` by id; no query when none has a card (most pages)."""
    wanted = {r["card_id"] for r in rows if r["card_id"] is not None}
    if not wanted:
        return {}
    found = await CARD_ROWS.mappings(conn, {"ids": list(wanted)})
    return {r["id"]: r for r in found if r["state"] == "ready"}


async def _authors(
    conn: AsyncConnection, ids: set[int], shelf: Shelf, stamp: int
) -> dict[int, Row]:
    """Authors by id, from the shelf when trusted or found unchanged, else loaded; suspended
    ones are left out."""
    shelved = shelf.accounts
    known: dict[int, Row | None] = {}
    fresh: dict[int, Row | None] = {}  # checked or loaded now, to keep
    unsure: list[int] = []
    trust = shelf.trust_now()
    missing: list[int] = []
    for account_id in ids:
        entry = shelved.get(account_id)
        if entry is None:
            missing.append(account_id)
        elif trust.covers(entry):
            known[account_id] = entry.value
        else:
            unsure.append(account_id)
    if unsure:
        seen = {row[0]: row[1:] for row in await ACCOUNT_SEEN_ROWS.rows(conn, {"ids": unsure})}
        for account_id in unsure:
            row = shelved[account_id].value
            now_seen = seen.get(account_id, _GONE)
            if now_seen is _GONE:
                fresh[account_id] = None
            elif row is None:  # suspended when last read: loaded again once it is not
                if now_seen[_SUSPENDED] is None:
                    missing.append(account_id)
                else:
                    fresh[account_id] = None
            elif now_seen == tuple(row[c] for c in ACCOUNT_SEEN):
                fresh[account_id] = row
            else:
                missing.append(account_id)
    if missing:
        loaded = await account_service.get_many(conn, missing)
        fresh.update({i: loaded.get(i) for i in missing})
    for account_id, row in fresh.items():
        shelf.keep(shelved, account_id, row, stamp)
    known.update(fresh)
    return {i: row for i, row in known.items() if row is not None}


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


def _showable(status_id: int, rows: dict[int, Row]) -> bool:
    """Shown, and for a repost its original shown too (every row kept has its author)."""
    row = rows.get(status_id)
    if row is None:
        return False
    original_id = row["reblog_of_id"]
    return not original_id or original_id in rows


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


async def _about_viewer(
    conn: AsyncConnection, ids: list[int], authors: set[int], viewer_id: int | None, batch: Posts
) -> set[int]:
    """The viewer's favourites, reposts and bookmarks into ``batch``; returns whom among the
    authors they block or are blocked by."""
    blocked: set[int] = set()
    if viewer_id is None or not ids:
        return blocked
    params = {"authors": list(authors) or [0], "viewer": viewer_id}
    low, high = min(ids), max(ids)
    if ms_between(low, high) <= SPAN_MS:
        found = await ABOUT_VIEWER_SPAN.rows(conn, {**params, "low": low, "high": high})
    else:
        found = await ABOUT_VIEWER.rows(conn, {**params, "ids": ids})
    asked = set(ids)  # a range also finds the viewer's posts between the page's
    for kind, key in found:
        if kind == "blocked":
            blocked.add(key)
        elif key in asked:
            getattr(batch, kind).add(key)
    return blocked


async def _followed(conn: AsyncConnection, rows: dict[int, Row], viewer_id: int | None) -> set[int]:
    """Whom the viewer follows among the authors of others' followers-only posts in ``rows``."""
    authors = {
        r["account_id"]
        for r in rows.values()
        if r["visibility"] == _PRIVATE and r["account_id"] != viewer_id
    }
    if viewer_id is None or not authors:
        return set()
    return set(await FOLLOWED_AMONG.scalars(conn, {"viewer": viewer_id, "authors": list(authors)}))
