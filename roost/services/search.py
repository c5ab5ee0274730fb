"""Search: accounts and hashtags by prefix, posts by full text (FTS5 / PostgreSQL), newest first."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.text import clean
from roost.services import social
from roost.store.tables import accounts, status_tags, statuses, tags

WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8  # bounds the cost of one query


async def hashtags(
    conn: AsyncConnection, query: str, limit: int, offset: int = 0
) -> list[RowMapping]:
    term = clean(query).strip().lstrip("#").lower()
    if not term or not WORD.fullmatch(term):
        return []
    result = await conn.execute(
        select(tags)
        .where(tags.c.name >= term, tags.c.name < term + "\uffff")
        .order_by((tags.c.name == term).desc(), tags.c.name)
        .limit(limit)
        .offset(offset)
    )
    return list(result.mappings())


async def statuses_matching(
    conn: AsyncConnection, query: str, limit: int, offset: int = 0, max_id: int | None = None
) -> list[int]:
    """Ids of public posts containing every word of the query, newest first."""
    words = [w.lower() for w in WORD.findall(clean(query))][:MAX_TERMS]
    if not words:
        return []
    if conn.dialect.name == "sqlite":
        match = " ".join(f'"{w}"' for w in words)
        sql = (
            "SELECT s.id FROM statuses_fts f JOIN statuses s ON s.id = f.rowid "
            "WHERE statuses_fts MATCH :match AND s.visibility = 'public'"
            + (" AND s.id < :max_id" if max_id else "")
            + " ORDER BY s.id DESC LIMIT :limit OFFSET :offset"
        )
        params = {"match": match, "limit": limit, "offset": offset, "max_id": max_id}
        return list((await conn.execute(text(sql), params)).scalars())
    tsquery = func.plainto_tsquery("simple", " ".join(words))
    condition = func.to_tsvector("simple", statuses.c.text).op("@@")(tsquery)
    stmt = select(statuses.c.id).where(
        condition, statuses.c.reblog_of_id.is_(None), statuses.c.visibility == "public"
    )
    if max_id:
        stmt = stmt.where(statuses.c.id < max_id)
    stmt = stmt.order_by(statuses.c.id.desc()).limit(limit).offset(offset)
    return list((await conn.execute(stmt)).scalars())


async def trending_tags(
    conn: AsyncConnection, since_id: int, limit: int, born_before: datetime
) -> list[tuple[int, str]]:
    """(id, name) of the tags the most people used in public posts newer than ``since_id``
    (a snowflake floor of a time): people, not posts, so one account repeating a tag cannot
    lift it; only accounts in good standing count (not suspended, created before
    ``born_before``), so a wave of new accounts cannot either."""
    people = func.count(func.distinct(statuses.c.account_id))
    result = await conn.execute(
        select(tags.c.id, tags.c.name)
        .join(status_tags, status_tags.c.tag_id == tags.c.id)
        .join(statuses, statuses.c.id == status_tags.c.status_id)
        .join(accounts, accounts.c.id == statuses.c.account_id)
        .where(
            status_tags.c.status_id >= since_id,
            statuses.c.visibility == "public",
            accounts.c.suspended_at.is_(None),
            accounts.c.created_at < born_before,
        )
        .group_by(tags.c.id, tags.c.name)
        .order_by(people.desc(), func.count().desc(), tags.c.name)
        .limit(limit)
    )
    return [(row.id, row.name) for row in result]


async def statuses_for(
    conn: AsyncConnection,
    viewer_id: int | None,
    query: str,
    limit: int,
    offset: int = 0,
    max_id: int | None = None,
) -> list[int]:
    """``statuses_matching``, without the accounts the viewer blocked, muted or is blocked by:
    the same rule for the API and the web page (they used to differ)."""
    ids = await statuses_matching(conn, query, limit, offset, max_id)
    if viewer_id is None or not ids:
        return ids
    hidden = set(await social.hidden_ids(conn, viewer_id))
    if not hidden:
        return ids
    authors = dict((await conn.execute(_AUTHORS, {"ids": ids})).all())
    return [i for i in ids if authors.get(i) not in hidden]


_AUTHORS = select(statuses.c.id, statuses.c.account_id).where(
    statuses.c.id.in_(bindparam("ids", expanding=True))
)


async def tag_exists(conn: AsyncConnection, name: str) -> bool:
    return await conn.scalar(select(tags.c.id).where(tags.c.name == name)) is not None
