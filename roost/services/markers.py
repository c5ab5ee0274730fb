"""Reading positions (Mastodon's markers): where a person stopped reading home and
notifications, so another app of theirs opens at the same place."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.services.context import Row, Tx, now
from roost.store.tables import markers

TIMELINES = ("home", "notifications")


async def get(conn: AsyncConnection, account_id: int, timelines: list[str]) -> list[Row]:
    query = select(markers).where(
        markers.c.account_id == account_id, markers.c.timeline.in_(timelines)
    )
    return list((await conn.execute(query)).mappings())


async def save(tx: Tx, account_id: int, timeline: str, last_read_id: int) -> Row:
    """Move a marker (its version counts the moves); returns it as stored."""
    dialect = postgresql if tx.conn.dialect.name == "postgresql" else sqlite
    moment = now()
    stmt = dialect.insert(markers).values(
        account_id=account_id,
        timeline=timeline,
        last_read_id=last_read_id,
        version=1,
        updated_at=moment,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["account_id", "timeline"],
        set_={"last_read_id": last_read_id, "version": markers.c.version + 1, "updated_at": moment},
    )
    await tx.conn.execute(stmt)
    query = select(markers).where(
        markers.c.account_id == account_id, markers.c.timeline == timeline
    )
    return (await tx.conn.execute(query)).mappings().one()
