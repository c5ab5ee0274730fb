"""The instance's own figures and words, as /api/v1/instance, /api/v2/instance, their small
companions (rules, extended description, weekly activity) and nodeinfo report them."""

from __future__ import annotations

import html
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.config import Settings
from roost.domain.ids import id_floor
from roost.services.context import Context, now
from roost.store.tables import accounts, statuses, tokens, web_sessions

_USERS = select(func.count()).select_from(accounts)
_POSTS = select(func.count()).select_from(statuses).where(statuses.c.reblog_of_id.is_(None))

ACTIVITY_WEEKS = 12  # Mastodon reports three months, a week a row
ACTIVITY_SECONDS = 600.0  # weeks move slowly; a public read must not scan tables every time


async def figures(conn: AsyncConnection) -> dict[str, int]:
    """Accounts and original posts (reposts are not posts), in Mastodon's ``stats`` names."""
    users = await conn.scalar(_USERS) or 0
    posts = await conn.scalar(_POSTS) or 0
    return {"user_count": users, "status_count": posts, "domain_count": 0}


# --- What the operator writes: rules and the extended description -----------------------------


@dataclass(frozen=True)
class Written:
    """A file the operator wrote, as read at its last change (files are read again only when
    their modification time moves, so editing one needs no restart)."""

    stamp: float
    value: object


_read: dict[str, Written] = {}


def _file(path: str, parse) -> Written | None:
    """The parsed file at ``path`` (None when none is set or it has gone)."""
    if not path:
        return None
    try:
        stamp = os.stat(path).st_mtime
        kept = _read.get(path)
        if kept is None or kept.stamp != stamp:
            with open(path, encoding="utf-8", errors="replace") as handle:
                kept = _read[path] = Written(stamp, parse(handle.read()))
        return kept
    except OSError:  # checked when settings were loaded; a file removed since counts as empty
        return None


def _rules_of(text: str) -> list[dict]:
    """Mastodon's Rule entities: one a non-empty line, ``text | hint``; ``#`` starts a comment."""
    found: list[dict] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words, _, hint = line.partition("|")
        found.append({"id": str(len(found) + 1), "text": words.strip(), "hint": hint.strip()})
    return found


def rules(settings: Settings) -> list[dict]:
    """The instance's rules (``ROOST_RULES_FILE``); none by default."""
    written = _file(settings.rules_file, _rules_of)
    return list(written.value) if written else []  # type: ignore[call-overload]


def _paragraphs(text: str) -> str:
    parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in parts)


def extended_description(settings: Settings) -> tuple[str, datetime | None]:
    """The extended description as HTML (``ROOST_ABOUT_FILE``, plain text escaped, so a stray
    ``<`` cannot break clients' pages) and when it last changed (None when there is none, as
    Mastodon answers)."""
    written = _file(settings.about_file, _paragraphs)
    if written is None:
        return "", None
    return str(written.value), datetime.fromtimestamp(written.stamp, UTC)


# --- Weekly activity ---------------------------------------------------------------------------


def _weeks(moment: datetime) -> list[datetime]:
    """Monday midnights UTC, this week first, ``ACTIVITY_WEEKS`` of them."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = day - timedelta(days=day.weekday())
    return [monday - timedelta(weeks=n) for n in range(ACTIVITY_WEEKS)]


def _per_week(column, weeks: list[datetime], floor=lambda w: w, distinct=None) -> list:
    """A count per week of rows whose ``column`` falls in it (of ``distinct`` values, if set)."""
    counts = []
    for n, week in enumerate(weeks):
        within = column >= floor(week)
        if n:
            within = and_(within, column < floor(weeks[n - 1]))
        if distinct is None:
            counts.append(func.count(case((within, 1))))
        else:
            counts.append(func.count(func.distinct(case((within, distinct)))))
    return counts


async def _weekly_counts(conn: AsyncConnection, weeks: list[datetime]) -> list[list[int]]:
    """Original posts, sign-ins and registrations per week, in three statements."""
    oldest = weeks[-1]
    posts = select(*_per_week(statuses.c.id, weeks, id_floor)).where(
        statuses.c.id >= id_floor(oldest), statuses.c.reblog_of_id.is_(None)
    )
    joined = select(*_per_week(accounts.c.created_at, weeks)).where(accounts.c.created_at >= oldest)
    signins = union_all(
        select(tokens.c.account_id.label("who"), tokens.c.created_at.label("at")).where(
            tokens.c.account_id.is_not(None), tokens.c.created_at >= oldest
        ),
        select(web_sessions.c.account_id, web_sessions.c.created_at).where(
            web_sessions.c.created_at >= oldest
        ),
    ).subquery()
    logins = select(*_per_week(signins.c.at, weeks, distinct=signins.c.who))
    return [list((await conn.execute(q)).one()) for q in (posts, logins, joined)]


async def activity(ctx: Context, conn: AsyncConnection) -> list[dict]:
    """Twelve weeks of posts, logins and registrations, this week first (strings, as Mastodon
    sends them). Logins are the distinct accounts that signed in that week (a new OAuth token
    or a web session): Roost records sign-ins, not every visit. Kept in process ten minutes."""
    kept = ctx.extras.get("instance_activity")
    if kept is not None and time.monotonic() - kept[0] < ACTIVITY_SECONDS:
        return kept[1]
    weeks = _weeks(now())
    posts, logins, joined = await _weekly_counts(conn, weeks)
    found = [
        {
            "week": str(int(week.timestamp())),
            "statuses": str(posts[n]),
            "logins": str(logins[n]),
            "registrations": str(joined[n]),
        }
        for n, week in enumerate(weeks)
    ]
    ctx.extras["instance_activity"] = (time.monotonic(), found)
    return found
