"""The automatic updates' words: plain English a reader under stress takes in at a glance."""

from __future__ import annotations

from datetime import datetime, timedelta

# The shield's classification (docs/architecture.md), as a reader would say it.
CLASSIFICATION_WORDS = {
    "volumetric_get_flood": "a flood of page requests",
    "cache_busting": "requests crafted to bypass caches",
    "login_brute_force": "password guessing against sign-in",
    "post_spam": "a flood of spam posts",
    "slow_clients": "slow connections held open to exhaust the server",
    "connection_flood": "a flood of new connections",
}


def join(items: list[str]) -> str:
    """["Web", "API", "Search"] -> "Web, API and Search"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def clock(at: datetime, date: bool = False) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC" if date else "%H:%M:%S UTC")


def duration(span: timedelta) -> str:
    """A span in words: "1 h 2 min 3 s"."""
    seconds = max(0, round(span.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s"]
    if hours or minutes:
        parts[2] = f"{secs} s" if secs else ""
    return " ".join(p for p in parts if p)


def attack(started_at: datetime | None, classification: list[str], summary: str) -> str:
    """What the shield reported, in plain words."""
    kinds = [CLASSIFICATION_WORDS.get(k, k.replace("_", " ")) for k in classification]
    text = "Roost is defending against a denial-of-service attack"
    text += f": {join(kinds)}." if kinds else "."
    if summary:
        text += f" {summary[0].upper()}{summary[1:].rstrip('.')}."
    if started_at:
        text += f" The attack began at {clock(started_at)}."
    return text


def resolution(
    start: datetime | None, end: datetime | None, attack_ended: datetime | None, what: str = "Roost"
) -> str:
    """The measured outage of ``what`` (Roost, or the components that were down), start to end."""
    if start is None or end is None:
        text = "Roost has been fully up for the whole quiet period; this incident is resolved."
    else:
        verb = "were" if " and " in what else "was"
        text = (
            f"{what} {verb} down from {clock(start, date=True)} to {clock(end)}"
            f" ({duration(end - start)}); Roost has been fully up since."
        )
    if attack_ended:
        text += f" The attack ended at {clock(attack_ended)}."
    return text
