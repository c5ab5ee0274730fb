"""The shelf: what showing a post takes that is the same for every viewer, kept between reads.

A page of posts is mostly the same for everyone who reads it: the posts' rows, their authors,
mentions and tags, and the entities rendered from them. Only the viewer's part differs (what
they favourited, reposted or bookmarked, whom they block or follow, which is what the one
visibility rule needs), and ``roost.services.hydrate`` asks for that on every read. The rest
is loaded once and kept here, so that a page nobody has read yet (a new cursor, another
person's feed over the same posts) costs the feed's query and the viewer's, not six.

Correctness rests on the generation that the response cache uses (``roost.store.commits``): it
moves on every commit this process makes, and the shelf empties when it does. Entries are kept
only if the generation has not moved since before their rows were read, so a write racing a
read is never kept as current. Another process's writes are not seen: the shelf also empties
after ``ttl`` seconds, the response cache's bound on that staleness. Only reads outside a
write transaction use it (a row read inside one may still be rolled back).
"""

from __future__ import annotations

import time
from typing import Any

from roost.store.commits import Generation

Row = Any

# How long another process's write can go unseen here (a cached response adds its own 2 s).
SHELF_TTL = 1.0
MOST_POSTS = 20_000  # then the shelf starts again: about 30 MB at most with what goes with them


class Shelf:
    """Per-process, emptied together: ``posts`` (id -> (row, mentions, tags), or None when gone),
    ``accounts`` (id -> row, or None when suspended or gone) and ``rendered`` entities."""

    def __init__(self, generation: Generation, ttl: float = SHELF_TTL) -> None:
        self.generation = generation
        self.ttl = ttl
        self.stamp = -1
        self.expires = 0.0
        self.posts: dict[int, tuple[Row, list, list] | None] = {}
        self.accounts: dict[int, Row | None] = {}
        self.rendered: dict[tuple[str, int], dict] = {}
        self.emptied = 0  # times the shelf started again (a commit, or its ttl)

    def open(self) -> int:
        """The stamp for a read about to run; empties the shelf if it is stale."""
        current = self.generation.value
        moment = time.monotonic()
        if current != self.stamp or moment > self.expires or len(self.posts) > MOST_POSTS:
            self.posts, self.accounts, self.rendered = {}, {}, {}
            self.emptied += 1
            self.stamp = current
            self.expires = moment + self.ttl
        return current

    def fresh(self, stamp: int) -> bool:
        """Whether what was read under ``stamp`` may be kept: nothing committed since."""
        return stamp == self.generation.value == self.stamp
