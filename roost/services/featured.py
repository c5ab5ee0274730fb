"""What one says on a profile beyond posts: hashtags featured on it (with how often one used
them) and private notes about other accounts (shown only to their writer, in Relationship)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.errors import Invalid, NotFound, ValidationFailed
from roost.domain.text import clean, normalize_tag
from roost.services import accounts
from roost.services.context import Context, now
from roost.store.db import Tx
from roost.store.tables import account_notes, featured_tags, status_tags, statuses, tags

MOST_FEATURED = 10  # as Mastodon
MOST_SUGGESTED = 10
NOTE_CHARS = 2000  # as Mastodon's account notes
COUNTED = ("public", "unlisted")  # the posts a featured tag counts, as Mastodon's


@dataclass(frozen=True)
class Featured:
    """What Mastodon's FeaturedTag says: the tag, and the owner's public posts with it."""

    id: int
    name: str
    statuses_count: int
    last_status_at: datetime | None


async def featured(conn: AsyncConnection, account_id: int) -> list[Featured]:
    """An account's featured tags, oldest first, each with its count (one query)."""
    used = (
        select(
            status_tags.c.tag_id,
            func.count().label("n"),
            func.max(statuses.c.created_at).label("last"),
        )
        .join(statuses, statuses.c.id == status_tags.c.status_id)
        .where(
            statuses.c.account_id == account_id,
            statuses.c.visibility.in_(COUNTED),
            status_tags.c.tag_id.in_(
                select(featured_tags.c.tag_id).where(featured_tags.c.account_id == account_id)
            ),
        )
        .group_by(status_tags.c.tag_id)
        .subquery()
    )
    found = await conn.execute(
        select(featured_tags.c.id, tags.c.name, used.c.n, used.c.last)
        .join(tags, tags.c.id == featured_tags.c.tag_id)
        .outerjoin(used, used.c.tag_id == featured_tags.c.tag_id)
        .where(featured_tags.c.account_id == account_id)
        .order_by(featured_tags.c.id)
    )
    return [Featured(i, name, n or 0, last) for i, name, n, last in found]


async def feature(ctx: Context, tx: Tx, account_id: int, raw_name: str) -> Featured:
    """Feature a hashtag on one's profile (made if nobody has used it yet); 422 for a name that
    cannot be a tag, one already featured, or an eleventh."""
    name = normalize_tag(raw_name)
    if name is None:
        raise Invalid("name", "is not a valid hashtag")
    tag_id = await tx.conn.scalar(select(tags.c.id).where(tags.c.name == name))
    if tag_id is None:
        tag_id = ctx.ids.next_id()
        await tx.conn.execute(insert(tags).values(id=tag_id, name=name, created_at=now()))
    await accounts.hold(tx, account_id)
    mine = list(
        await tx.conn.scalars(
            select(featured_tags.c.tag_id).where(featured_tags.c.account_id == account_id)
        )
    )
    if tag_id in mine:
        raise ValidationFailed("Name has already been taken")
    if len(mine) >= MOST_FEATURED:
        raise ValidationFailed(f"You can feature at most {MOST_FEATURED} hashtags")
    featured_id = ctx.ids.next_id()
    await tx.conn.execute(
        insert(featured_tags).values(
            id=featured_id, account_id=account_id, tag_id=tag_id, created_at=now()
        )
    )
    return next(f for f in await featured(tx.conn, account_id) if f.id == featured_id)


async def unfeature(tx: Tx, account_id: int, featured_id: int) -> None:
    """Stop featuring a tag; someone else's (or an unknown id) is not found."""
    gone = await tx.conn.execute(
        delete(featured_tags).where(
            featured_tags.c.id == featured_id, featured_tags.c.account_id == account_id
        )
    )
    if not gone.rowcount:
        raise NotFound("Record")


async def suggestions(conn: AsyncConnection, account_id: int) -> list[str]:
    """The tags one uses most in one's own posts and does not feature yet, most used first."""
    uses = func.count().label("uses")
    found = await conn.scalars(
        select(tags.c.name)
        .select_from(status_tags)
        .join(statuses, statuses.c.id == status_tags.c.status_id)
        .join(tags, tags.c.id == status_tags.c.tag_id)
        .where(
            statuses.c.account_id == account_id,
            status_tags.c.tag_id.not_in(
                select(featured_tags.c.tag_id).where(featured_tags.c.account_id == account_id)
            ),
        )
        .group_by(tags.c.name)
        .order_by(uses.desc(), tags.c.name)
        .limit(MOST_SUGGESTED)
    )
    return list(found)


async def set_note(ctx: Context, tx: Tx, account_id: int, target_id: int, comment: str) -> None:
    """Write (or, with an empty comment, clear) one's private note about another account."""
    comment = clean(comment)
    if len(comment) > NOTE_CHARS:
        raise Invalid("comment", f"is too long (maximum is {NOTE_CHARS} characters)")
    where = (account_notes.c.account_id == account_id) & (
        account_notes.c.target_account_id == target_id
    )
    if not comment:
        await tx.conn.execute(delete(account_notes).where(where))
        return
    changed = await tx.conn.execute(
        update(account_notes).where(where).values(comment=comment, updated_at=now())
    )
    if not changed.rowcount:
        await tx.conn.execute(
            insert(account_notes).values(
                id=ctx.ids.next_id(),
                account_id=account_id,
                target_account_id=target_id,
                comment=comment,
                updated_at=now(),
            )
        )
