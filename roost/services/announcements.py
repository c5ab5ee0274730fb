"""Announcements: what the operator tells everyone (`roost announce`), shown by clients at
start-up (Mastodon's ``/api/v1/announcements``), and who has dismissed which."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.errors import Invalid, NotFound
from roost.domain.text import clean, render
from roost.services.context import Context, Row, Tx, now
from roost.store.tables import announcement_reads, announcements

MAX_CHARS = 5_000  # an announcement is a few sentences; this bounds a client's start-up read


@dataclass(frozen=True)
class Shown:
    """An announcement as one person sees it: the row and whether they dismissed it."""

    row: Row
    read: bool


async def create(
    ctx: Context,
    tx: Tx,
    text: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    all_day: bool = False,
) -> Row:
    """Publish an announcement now; it shows from ``starts_at`` (or at once) until ``ends_at``."""
    body = clean(text).replace("\r\n", "\n").strip()
    if not body:
        raise Invalid("text", "can't be blank")
    if len(body) > MAX_CHARS:
        raise Invalid("text", f"is too long (maximum is {MAX_CHARS} characters)")
    if starts_at and ends_at and ends_at <= starts_at:
        raise Invalid("ends_at", "must be after starts_at")
    moment = now()
    row_id = ctx.ids.next_id()
    await tx.conn.execute(
        insert(announcements).values(
            id=row_id,
            text=body,
            content_html=render(body, ctx.base_url),
            all_day=all_day,
            starts_at=starts_at,
            ends_at=ends_at,
            published_at=moment,
            updated_at=moment,
        )
    )
    return await _get(tx.conn, row_id)


async def listing(conn: AsyncConnection) -> list[Row]:
    """Every announcement, past and to come, newest first (for the operator)."""
    query = select(announcements).order_by(announcements.c.id.desc())
    return list((await conn.execute(query)).mappings())


async def remove(tx: Tx, announcement_id: int) -> None:
    """Take an announcement down for good (its dismissals go with it)."""
    await _get(tx.conn, announcement_id)
    await tx.conn.execute(delete(announcements).where(announcements.c.id == announcement_id))


async def active(conn: AsyncConnection, viewer_id: int) -> list[Shown]:
    """The announcements showing now, newest first, each with whether the viewer dismissed it."""
    moment = now()
    query = (
        select(announcements)
        .where(
            or_(announcements.c.starts_at.is_(None), announcements.c.starts_at <= moment),
            or_(announcements.c.ends_at.is_(None), announcements.c.ends_at > moment),
        )
        .order_by(announcements.c.id.desc())
    )
    rows = list((await conn.execute(query)).mappings())
    read = await _read_among(conn, viewer_id, [r["id"] for r in rows])
    return [Shown(row, row["id"] in read) for row in rows]


async def dismiss(ctx: Context, tx: Tx, viewer_id: int, announcement_id: int) -> None:
    """Mark an announcement read for the viewer; dismissing twice is dismissing once."""
    await _get(tx.conn, announcement_id)
    dialect = postgresql if tx.conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(announcement_reads).values(
        id=ctx.ids.next_id(),
        account_id=viewer_id,
        announcement_id=announcement_id,
        created_at=now(),
    )
    await tx.conn.execute(stmt.on_conflict_do_nothing())


async def exists(conn: AsyncConnection, announcement_id: int) -> None:
    """404 unless the announcement exists."""
    await _get(conn, announcement_id)


async def _get(conn: AsyncConnection, announcement_id: int) -> Row:
    query = select(announcements).where(announcements.c.id == announcement_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound("Announcement")
    return row


async def _read_among(conn: AsyncConnection, viewer_id: int, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    query = select(announcement_reads.c.announcement_id).where(
        announcement_reads.c.account_id == viewer_id,
        announcement_reads.c.announcement_id.in_(ids),
    )
    return set((await conn.execute(query)).scalars())
