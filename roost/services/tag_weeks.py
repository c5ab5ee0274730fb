"""Each tag's week of use (``tags.histories``), kept a few seconds in process, and counted on
in place when a post of this process uses the tag: a busy hashtag's card costs one count per
ten seconds however often it is posted to, and its author sees their post counted at once
(today's people lag up to ``TTL``)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from roost.services.context import Context

TTL = 10.0  # s a week is kept; another process's posts are counted within this
MOST = 10_000  # tags kept at once


def kept(ctx: Context, tag_ids: Iterable[int]) -> dict[int, list[dict]]:
    """The weeks still kept, of those asked."""
    weeks: dict[int, tuple[float, list[dict]]] = ctx.extras.get("tag_weeks", {})
    clock = time.monotonic()
    return {t: weeks[t][1] for t in tag_ids if t in weeks and weeks[t][0] > clock}


def keep(ctx: Context, counted: dict[int, list[dict]]) -> None:
    weeks = ctx.extras.setdefault("tag_weeks", {})
    if len(weeks) + len(counted) > MOST:
        weeks.clear()
    deadline = time.monotonic() + TTL
    weeks.update({tag_id: (deadline, week) for tag_id, week in counted.items()})


def used(ctx: Context, tag_ids: Iterable[int]) -> None:
    """A post just used these tags: one more use today in each week kept."""
    weeks = ctx.extras.get("tag_weeks", {})
    for tag_id in tag_ids:
        kept_week = weeks.get(tag_id)
        if kept_week is not None:
            today = kept_week[1][0]
            kept_week[1][0] = {**today, "uses": str(int(today["uses"]) + 1)}
