"""Page weight: lists cut by rendered bytes, so a page stays light however heavy its posts.

Issue 6 asks that a page weigh at most 100 KB on a first visit, its CSS, script and icon
included. A page of 20 posts at the length limit that are nearly all hashtags and mentions
weighs far more (231 KB measured before the cut), so a list of posts stops once its HTML passes
the budget, and the "Older" link carries on from the last post shown: nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from roost.web.render import STATIC_DIR

PAGE_LIMIT = 100_000  # bytes on a first visit (issue 6)
FIRST_LOAD = ("roost.css", "roost.js", "icon.svg")  # what every page links
SLACK = 1_500  # what the cut itself changes between drawings: its links, a count's digits


@cache
def html_budget() -> int:
    """Bytes a page's HTML may take, once the assets every page loads are counted."""
    assets = sum((STATIC_DIR / name).stat().st_size for name in FIRST_LOAD)
    return PAGE_LIMIT - assets - SLACK


def size(text: str) -> int:
    return len(text.encode())


def fitting(sizes: Sequence[int], room: int) -> int:
    """How many of the leading items fit in ``room`` bytes."""
    used = 0
    for count, item in enumerate(sizes):
        used += item
        if used > room:
            return count
    return len(sizes)


def fit(
    draw: Callable[[list[int]], str],
    lists: Sequence[Sequence[str]],
    shares: Sequence[float] | None = None,
) -> tuple[str, list[int]]:
    """The page drawn with every item if it is light enough, else with as many leading items of
    each list as fit; and how many of each it shows.

    ``draw(counts)`` renders the page with the first ``counts[i]`` items of list ``i`` (joined
    as they are), so the page's chrome is the drawing's size less its items' sizes. Each list
    in turn takes what fits of the room left, at most its ``share`` of it; the last list shows
    at least one item, so a page is never empty for one heavy post and paging always moves on.
    A page within the budget is drawn once; a heavy one twice.
    """
    counts = [len(items) for items in lists]
    body = draw(counts)
    total = size(body)
    if total <= html_budget():
        return body, counts
    sizes = [[size(item) for item in items] for items in lists]
    room = html_budget() - (total - sum(sum(each) for each in sizes))
    counts = []
    for each, share in zip(sizes, shares or [1.0] * len(lists), strict=True):
        count = fitting(each, int(room * share))
        if len(counts) == len(lists) - 1:
            count = max(count, min(1, len(each)))
        room -= sum(each[:count])
        counts.append(count)
    return draw(counts), counts


def older_cursor(items: Sequence[Any], shown: int, last_id: Any, full: bool) -> Any:
    """Where "Older" carries on: after the last item shown when the weight cut the page, else
    after the page's last row when the page was full (there may be more), else nowhere."""
    if shown < len(items):
        return items[shown - 1]["id"]
    return last_id if full else None
