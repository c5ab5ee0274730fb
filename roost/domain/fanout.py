"""Timeline fan-out policy: push to followers' feeds on write, or merge at read for big authors.

The hybrid large sites use: pushing one post into millions of feeds is the expensive part of a
celebrity's post, so authors above the threshold are pulled at read time instead.
"""

from __future__ import annotations

from enum import StrEnum


class FanoutState(StrEnum):
    """Where a post's background delivery stands; a post is durable before fan-out starts."""

    PENDING = "pending"  # stored, not yet delivered to followers' feeds
    DONE = "done"  # every follower's feed has it (or the author is read-merged)


def push_on_write(follower_count: int, threshold: int) -> bool:
    return follower_count <= threshold


def merge_sorted_ids(limit: int, *id_lists: list[int]) -> list[int]:
    """Newest-first union of several newest-first id lists, without duplicates."""
    merged = sorted({i for ids in id_lists for i in ids}, reverse=True)
    return merged[:limit]
