"""The instance's own figures, as /api/v1/instance and nodeinfo report them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.store.tables import accounts, statuses

_USERS = select(func.count()).select_from(accounts)
_POSTS = select(func.count()).select_from(statuses).where(statuses.c.reblog_of_id.is_(None))


async def figures(conn: AsyncConnection) -> dict[str, int]:
    """Accounts and original posts (reposts are not posts), in Mastodon's ``stats`` names."""
    users = await conn.scalar(_USERS) or 0
    posts = await conn.scalar(_POSTS) or 0
    return {"user_count": users, "status_count": posts, "domain_count": 0}
