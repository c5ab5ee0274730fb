"""Who is calling the API: bearer tokens (stored hashed), their scopes, and scope checks."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request

from roost.api.cache import caches
from roost.api.http import ApiError
from roost.domain.signed import mint_token, token_digest
from roost.services.context import Context, now
from roost.store.db import Tx
from roost.store.tables import accounts, tokens

TOP_SCOPES = ("read", "write", "follow", "push", "admin:read", "admin:write")
# `follow` is Mastodon's old umbrella for relationship scopes.
FOLLOW_COVERS = {
    "read:follows",
    "write:follows",
    "read:blocks",
    "write:blocks",
    "read:mutes",
    "write:mutes",
}
GRANULAR = {
    "read": [
        "accounts",
        "blocks",
        "bookmarks",
        "favourites",
        "filters",
        "follows",
        "lists",
        "mutes",
        "notifications",
        "search",
        "statuses",
    ],
    "write": [
        "accounts",
        "blocks",
        "bookmarks",
        "conversations",
        "favourites",
        "filters",
        "follows",
        "lists",
        "media",
        "mutes",
        "notifications",
        "reports",
        "statuses",
    ],
}
KNOWN_SCOPES = set(TOP_SCOPES) | {
    f"{top}:{part}" for top, parts in GRANULAR.items() for part in parts
}


def parse_scopes(raw: str | list | None, default: str = "read") -> list[str]:
    if isinstance(raw, list):
        raw = " ".join(str(r) for r in raw)
    if raw is not None and not isinstance(raw, str):
        raise ApiError(400, "invalid_scope", "Scopes are a string of space-separated names")
    scopes = [s for s in (raw or default).replace("+", " ").replace(",", " ").split() if s]
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        raise ApiError(400, "invalid_scope", f"Unknown scope: {unknown[0]}")
    return list(dict.fromkeys(scopes))


def covers(granted: list[str] | set[str], needed: str) -> bool:
    """Whether granted scopes allow ``needed`` (e.g. ``read`` allows ``read:statuses``)."""
    if needed in granted:
        return True
    top = needed.split(":", 1)[0]
    if top in granted and ":" in needed:
        return True
    return "follow" in granted and needed in FOLLOW_COVERS


@dataclass
class Caller:
    token_id: int
    account: RowMapping | None
    scopes: set[str]
    app_id: int | None
    expires: float = float("inf")  # unix time the token stops working (token_lifetime)

    @property
    def account_id(self) -> int | None:
        return self.account["id"] if self.account is not None else None


async def issue_token(
    ctx: Context,
    tx: Tx,
    app_id: int | None,
    account: RowMapping | None,
    scopes: list[str],
    with_refresh: bool = True,
) -> dict:
    """Create a token and answer in Mastodon's Token shape (the secret is shown only now)."""
    if account is not None:
        created = int(account["created_at"].timestamp())
        access = mint_token(ctx.secret, account["id"], created)
    else:
        access = mint_token(ctx.secret, 0, 0)
    refresh = secrets.token_urlsafe(32) if with_refresh and account is not None else None
    moment = now()
    await tx.conn.execute(
        insert(tokens).values(
            id=ctx.ids.next_id(),
            token_digest=token_digest(access),
            refresh_digest=token_digest(refresh) if refresh else None,
            app_id=app_id,
            account_id=account["id"] if account is not None else None,
            scopes=" ".join(scopes),
            created_at=moment,
        )
    )
    answer = {
        "access_token": access,
        "token_type": "Bearer",
        "scope": " ".join(scopes),
        "created_at": int(moment.timestamp()),
    }
    if ctx.settings.token_lifetime > 0:
        answer["expires_in"] = ctx.settings.token_lifetime
    if refresh:
        answer["refresh_token"] = refresh
    return answer


async def revoke(tx: Tx, token: str, app_id: int | None = None) -> None:
    """Revoke a token (by its access or refresh value); with ``app_id``, only if that app's."""
    digest = token_digest(token)
    query = update(tokens).where(
        (tokens.c.token_digest == digest) | (tokens.c.refresh_digest == digest)
    )
    if app_id is not None:
        query = query.where(tokens.c.app_id == app_id)
    await tx.conn.execute(query.values(revoked_at=now()))


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    if token is None:
        token = request.query_params.get("access_token")  # browsers' EventSource/WebSocket
    if token is None and request.scope["type"] == "websocket":
        token = request.headers.get("sec-websocket-protocol")  # Mastodon's web client does this
    return token or None


async def caller_from(conn: AsyncConnection | None, request: Request) -> Caller | None:
    """The caller named by the bearer token, None when no token was sent; 401 when it is bad.

    Known tokens are served from the in-process cache (``roost.api.cache``) while nothing has
    been committed since; ``conn`` may be None to open a read connection only on a miss.
    """
    token = bearer_token(request)
    if token is None:
        return None
    ctx: Context = request.app.state.ctx
    store = caches(ctx)
    digest = token_digest(token[:300])
    caller = store.callers.get(digest)
    if caller is None:
        stamp = store.auth_generation.value
        lifetime = ctx.settings.token_lifetime
        if conn is None:
            async with ctx.db.read() as own:
                caller = await _lookup(own, digest, lifetime)
        else:
            caller = await _lookup(conn, digest, lifetime)
        store.callers.put(digest, stamp, caller)
    if caller.expires < time.time():
        raise ApiError(401, "The access token has expired")
    return caller


_CALLER_QUERY = select(
    tokens.c.id.label("token_id"),
    tokens.c.created_at.label("token_created_at"),
    tokens.c.scopes.label("token_scopes"),
    tokens.c.app_id.label("token_app_id"),
    tokens.c.revoked_at.label("token_revoked_at"),
    accounts,
).select_from(tokens.outerjoin(accounts, accounts.c.id == tokens.c.account_id))


async def _lookup(conn: AsyncConnection, digest: str, lifetime: int = 0) -> Caller:
    """The token and its account in one query."""
    query = _CALLER_QUERY.where(tokens.c.token_digest == digest)
    row = (await conn.execute(query)).mappings().first()
    if row is None or row["token_revoked_at"] is not None:
        raise ApiError(401, "The access token is invalid")
    account = row if row["id"] is not None else None
    if account is not None and account["suspended_at"] is not None:
        raise ApiError(401, "The access token is invalid")
    expires = row["token_created_at"].timestamp() + lifetime if lifetime > 0 else float("inf")
    scopes = set(row["token_scopes"].split())
    return Caller(row["token_id"], account, scopes, row["token_app_id"], expires)


def require(caller: Caller | None, scope: str, user: bool = True) -> Caller:
    """401 without a token, 403 when its scopes or kind (app vs user) do not fit."""
    if caller is None:
        raise ApiError(401, "The access token is invalid")
    if not covers(caller.scopes, scope):
        raise ApiError(403, "This action is outside the authorized scopes")
    if user and caller.account is None:
        raise ApiError(422, "This method requires an authenticated user")
    return caller
