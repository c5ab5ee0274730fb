"""The shelf: what showing a post takes that is the same for every viewer, kept between reads.

A page of posts is mostly the same for everyone who reads it: the posts' rows, their authors,
mentions and tags, and the entities rendered from them. Only the viewer's part differs (what
they favourited, reposted or bookmarked, whom they block or follow, which is what the one
visibility rule needs), and ``roost.services.hydrate`` asks for that on every read. The rest
is loaded once and kept here, so that a page nobody has read yet (a new cursor, another
person's feed over the same posts) costs the feed's query and the viewer's, not six.

When an entry may be used as it is: while nothing has been committed by this process since it
was read or last checked (the generation the response cache uses, ``roost.store.commits``),
and for at most ``ttl`` seconds (another process's writes do not move this one's generation).
Otherwise it is *checked*: one small query reads the columns through which every change to what
is shown passes (``STATUS_SEEN``, ``ACCOUNT_SEEN``) for all the page's unsure entries at once;
an entry whose columns are unchanged is used again, one that changed is loaded again. So the
shelf survives other people's posts, the fan-out's writes and favourites elsewhere: at 20 posts
a second most of a page is still on it. A post that is gone is gone for good (ids are never
reused). Entries are read outside write transactions only (a row read inside one may yet be
rolled back).
"""

from __future__ import annotations

import time
from typing import Any

from roost.store.commits import Generation

Row = Any

# How long an entry is used without a check: another process's writes show within this.
SHELF_TTL = 1.0
MOST_POSTS = 20_000  # then the shelf starts again: about 30 MB at most with what goes with them

# The columns through which every change to a shown post or author passes. The others of each
# table are fixed once written, follow one of these (an edit sets ``edited_at``; a profile
# change sets ``updated_at``), or are not shown; tests/services/test_services_shelf.py holds
# every column of both tables to one of these reasons, so a new column needs a decision.
STATUS_SEEN = (
    "visibility",
    "replies_count",
    "reblogs_count",
    "favourites_count",
    "edited_at",
    "poll_votes_count",  # a vote bumps it: a post with a poll is rendered again, never kept
    "card_id",  # set when its preview card is ready, after the post was first read
)
STATUS_FOLLOWS_EDIT = (
    "text",
    "content_html",
    "spoiler_text",
    "sensitive",
    "language",
    "media_attachments",
)
STATUS_FIXED = (
    "id",
    "account_id",
    "in_reply_to_id",
    "in_reply_to_account_id",
    "reblog_of_id",
    "application_id",
    "created_at",
)
STATUS_NOT_SHOWN = ("fanout_state",)
ACCOUNT_SEEN = (
    "display_name",
    "locked",
    "bot",
    "statuses_count",
    "followers_count",
    "following_count",
    "updated_at",
    "last_status_at",
    "suspended_at",
)
ACCOUNT_FOLLOWS_UPDATE = ("note", "note_html", "avatar_key", "header_key")
ACCOUNT_FIXED = ("id", "username", "created_at")
ACCOUNT_NOT_SHOWN = ("email", "password_hash", "role")


class Entry:
    """One thing on the shelf: its value (None: gone, or an author not shown), the generation
    it was read or checked under, and when."""

    __slots__ = ("checked", "stamp", "value")

    def __init__(self, value: Any, stamp: int, checked: float) -> None:
        self.value = value
        self.stamp = stamp
        self.checked = checked


class Trust:
    """Which entries may be used without a check, read once for a whole page: those kept under
    ``stamp`` (no commit since) and checked after ``since``."""

    __slots__ = ("since", "stamp")

    def __init__(self, stamp: int, since: float) -> None:
        self.stamp = stamp
        self.since = since

    def covers(self, entry: Entry) -> bool:
        return entry.stamp == self.stamp and entry.checked > self.since


class Shelf:
    """Per process: ``posts`` (id -> (row, mentions, tags)), ``accounts`` (id -> row), and
    ``rendered`` entities, each kept with the rows it was rendered from."""

    def __init__(self, generation: Generation, ttl: float = SHELF_TTL) -> None:
        self.generation = generation
        self.ttl = ttl
        self.posts: dict[int, Entry] = {}
        self.accounts: dict[int, Entry] = {}
        self.rendered: dict[tuple[str, int], tuple] = {}
        self.checked = 0  # entries checked and found unchanged, since the start
        self.reloaded = 0  # entries loaded again (changed, or never seen)

    def open(self) -> int:
        """The stamp for a read about to run (the generation now)."""
        if len(self.posts) > MOST_POSTS:
            self.posts, self.accounts, self.rendered = {}, {}, {}
        return self.generation.value

    def trusted(self, entry: Entry) -> bool:
        """Whether ``entry`` may be used without a check."""
        return self.trust_now().covers(entry)

    def trust_now(self) -> Trust:
        """Which entries may be used without a check now (for a whole page)."""
        return Trust(self.generation.value, time.monotonic() - self.ttl)

    def keep(self, table: dict[int, Entry], key: int, value: Any, stamp: int) -> None:
        """``value``, read (or checked) under ``stamp``: trusted until the next commit."""
        table[key] = Entry(value, stamp, time.monotonic())
