"""Web sessions held on the server.

The session cookie is signed (Starlette's SessionMiddleware) and names a session by a random id;
the id's digest is a row here, and the cookie counts only while that row is not revoked. A
stateless cookie outlived logging out and changing the password (issue 12, finding 7): a
replayed copy still opened /settings. Logging out revokes this session; changing the password
revokes every other session and the account's OAuth tokens; "log out everywhere" revokes all.
"""

from __future__ import annotations

import secrets

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.signed import token_digest
from roost.services.context import now
from roost.store.db import Tx
from roost.store.tables import tokens, web_sessions


async def start(tx: Tx, account_id: int) -> str:
    """A new session for the account; the id to put in the cookie."""
    session_id = secrets.token_urlsafe(24)
    await tx.conn.execute(
        insert(web_sessions).values(
            digest=token_digest(session_id), account_id=account_id, created_at=now()
        )
    )
    return session_id


async def is_live(conn: AsyncConnection, account_id: int, session_id: object) -> bool:
    if not isinstance(session_id, str) or not session_id:
        return False
    row = await conn.execute(
        select(web_sessions.c.account_id, web_sessions.c.revoked_at).where(
            web_sessions.c.digest == token_digest(session_id)
        )
    )
    found = row.first()
    return found is not None and found[0] == account_id and found[1] is None


async def end(tx: Tx, session_id: object) -> None:
    if isinstance(session_id, str) and session_id:
        await tx.conn.execute(
            update(web_sessions)
            .where(web_sessions.c.digest == token_digest(session_id))
            .values(revoked_at=now())
        )


async def end_all(tx: Tx, account_id: int, keep: object = None) -> None:
    """Revoke every live session of the account but ``keep`` (this browser's, if given)."""
    query = update(web_sessions).where(
        web_sessions.c.account_id == account_id, web_sessions.c.revoked_at.is_(None)
    )
    if isinstance(keep, str) and keep:
        query = query.where(web_sessions.c.digest != token_digest(keep))
    await tx.conn.execute(query.values(revoked_at=now()))


async def revoke_tokens(tx: Tx, account_id: int) -> None:
    """Every OAuth token of the account (apps must sign in again after a password change)."""
    await tx.conn.execute(
        update(tokens)
        .where(tokens.c.account_id == account_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=now())
    )
