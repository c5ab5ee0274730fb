"""Mastodon's Poll entity, shaped for one viewer at one moment: whether it has ended is
decided here, when it is shown, never kept."""

from __future__ import annotations

from datetime import datetime

from roost.domain.polls import totals_shown
from roost.services.context import now
from roost.services.tallies import Poll


def poll(found: Poll, viewer_id: int | None, moment: datetime | None = None) -> dict:
    """The Poll entity; ``voted`` and ``own_votes`` only for a signed-in viewer, as Mastodon."""
    expired = (moment or now()) >= found.expires_at
    shown = totals_shown(expired, found.hide_totals, found.author_id == viewer_id)
    entity: dict = {
        "id": str(found.id),
        "expires_at": _iso(found.expires_at),
        "expired": expired,
        "multiple": found.multiple,
        "votes_count": found.votes_count,
        "voters_count": found.voters_count,
        "options": [
            {"title": title, "votes_count": count if shown else None}
            for title, count in zip(found.options, found.counts, strict=True)
        ],
        "emojis": [],
    }
    if viewer_id is not None and found.own is not None:
        entity["voted"] = bool(found.own)
        entity["own_votes"] = list(found.own)
    return entity


def _iso(moment: datetime) -> str:
    """As ``entities.iso`` writes times (which imports this module, so it cannot be imported)."""
    text = moment.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if "+" in text else text + "Z"
