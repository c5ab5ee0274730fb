"""Who is calling the API: bearer tokens (stored hashed), their scopes, and scope checks."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request

from roost.api.cache import caches
from roost.api.http import ApiError
from roost.domain.scopes import KNOWN_SCOPES, covers
from roost.domain.signed import token_digest
from roost.services import oauth
from roost.services.context import Context

__all__ = ["KNOWN_SCOPES", "Caller", "caller_from", "covers", "require"]


@dataclass
class Caller:
    token_id: int
    account: Mapping | None
    scopes: set[str]
    app_id: int | None
    expires: float = float("inf")  # unix time the token stops working (token_lifetime)

    @property
    def account_id(self) -> int | None:
        return self.account["id"] if self.account is not None else None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    if token is None:
        token = request.query_params.get("access_token")  # browsers' EventSource/WebSocket
    if token is None and request.scope["type"] == "websocket":
        token = request.headers.get("sec-websocket-protocol")  # Mastodon's web client does this
    return token or None


async def caller_from(conn, request: Request) -> Caller | None:
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


async def _lookup(conn, digest: str, lifetime: int = 0) -> Caller:
    """The token and its account in one query (``services.oauth.token_holder``)."""
    row = await oauth.token_holder(conn, digest)
    if row is None:
        raise ApiError(401, "The access token is invalid")
    account = row if row["id"] is not None else None
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
