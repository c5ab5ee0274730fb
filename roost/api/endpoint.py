"""The one wrapper every API handler goes through: parameters, caller, scope, transaction, errors.

A handler receives a ``Call`` and returns data (or a Response); the wrapper opens a read
connection or a write transaction (committed before the response is sent, so an acknowledged
write is durable) and turns domain errors into Mastodon's error shape. Nothing a client sends
becomes a 500.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from roost.api.auth import KNOWN_SCOPES, Caller, caller_from, covers, require
from roost.api.cache import MAX_BODY as MAX_CACHED_BODY
from roost.api.cache import caches
from roost.api.fastpath import fast_key
from roost.api.http import ApiError, Json, error_response
from roost.api.http import body as read_body
from roost.api.params import Declared, read_all
from roost.bodies import Upload
from roost.domain.errors import RoostError
from roost.services.context import Conn, Context, Tx


@dataclass
class Call:
    """One API request as its handler sees it: parameters, caller, and its unit of work."""

    request: Request
    ctx: Context
    params: dict[str, Any]
    caller: Caller | None
    held: Conn | None  # None for handlers that open their own transactions
    writing: Tx | None = None  # the write transaction of an ``endpoint(write=True)``
    args: dict[str, Any] = field(default_factory=dict)  # the declared parameters, typed

    @property
    def conn(self) -> Conn:
        if self.held is None:
            raise RuntimeError("this endpoint holds no connection (own_transactions=True)")
        return self.held

    @property
    def tx(self) -> Tx:
        if self.writing is None:
            raise RuntimeError("this endpoint does not write (endpoint(write=True))")
        return self.writing

    @property
    def viewer_id(self) -> int | None:
        """The signed-in caller's account, if any (public endpoints)."""
        return self.caller.account_id if self.caller else None

    @property
    def me(self) -> int:
        """The caller's account, for endpoints that require one (``endpoint(user=True)``)."""
        account_id = self.viewer_id
        if account_id is None:
            raise RuntimeError("this endpoint was declared without a user")
        return account_id

    @property
    def app_id(self) -> int | None:
        return self.caller.app_id if self.caller else None

    @property
    def account(self):
        return self.caller.account if self.caller else None


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class IfToken:
    """Anyone may call; but a caller who sends a token acts with it only within this scope
    (Mastodon's ``authorize_if_got_token!``): a push-only token reads no private post."""

    scope: str


PUBLIC = "public"  # no caller's identity is used: instance facts, app registration, OAuth
Access = str | IfToken


def endpoint(
    scope: Access,
    *,
    write: bool = False,
    user: bool = True,
    cache: bool = False,
    own_transactions: bool = False,
    query: Declared | None = None,
    body: Declared | None = None,
    upload: Upload | None = None,
):
    """Declare a handler's access (a scope it requires, ``IfToken(scope)`` or ``PUBLIC``:
    there is no default, so no route can forget), whether it writes, and whether its GET
    responses may be kept in the in-process cache (``roost.api.cache``).

    ``own_transactions``: the handler holds no connection while it runs and opens its own,
    short ones (OAuth's token endpoint, which waits for a password hash: a held connection
    there would pin the pool, and a held write SQLite's one writer).

    ``upload``: the handler takes files (a multipart form), so many and a body so large."""
    if not (isinstance(scope, IfToken) or scope == PUBLIC or scope in KNOWN_SCOPES):
        raise ValueError(f"endpoint access must be a known scope, IfToken or PUBLIC: {scope!r}")

    declared = {**(query or {}), **(body or {})}

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        if declared:
            handler = _reading(declared, handler)

        @functools.wraps(handler)
        async def run(request: Request) -> Response:
            try:
                if cache and request.method == "GET":
                    return await _run_cached(handler, request, scope, user)
                if own_transactions:
                    return await _run_unheld(handler, request, scope, user, upload)
                return await _run(handler, request, scope, write, user, upload)
            except ApiError as exc:
                return error_response(exc.status, exc.error, exc.description)
            except RoostError as exc:  # an OAuthError's code is the `error` a client reads
                return error_response(exc.status, getattr(exc, "code", exc.message), exc.message)

        run.query = query or {}  # type: ignore[attr-defined]  # read by the OpenAPI text
        run.body = body or {}  # type: ignore[attr-defined]
        run.access = scope  # type: ignore[attr-defined]  # the route table's test reads it
        run.scope = _required(scope)  # type: ignore[attr-defined]  # read by the OpenAPI text
        return run

    return wrap


def _reading(declared: Declared, handler: Handler) -> Handler:
    """The handler, given its declared parameters read and typed in ``call.args``."""

    @functools.wraps(handler)
    async def reading(call: Call) -> Any:
        call.args = read_all(declared, call.params)
        return await handler(call)

    return reading


async def _run(
    handler: Handler, request: Request, scope, write: bool, user: bool, upload: Upload | None
) -> Response:
    ctx: Context = request.app.state.ctx
    params = await read_body(request, upload)
    if write:
        async with ctx.db.write() as tx:
            call = await _call(request, ctx, params, tx.conn, scope, user)
            call.writing = tx
            result = await handler(call)
    else:
        await ctx.db.behind_writes()
        async with ctx.db.read() as conn:
            call = await _call(request, ctx, params, conn, scope, user)
            result = await handler(call)
    return result if isinstance(result, Response) else Json(result)


async def _run_unheld(
    handler: Handler, request: Request, scope, user: bool, upload: Upload | None
) -> Response:
    ctx: Context = request.app.state.ctx
    params = await read_body(request, upload)
    caller = await caller_from(None, request)
    _check(caller, scope, user)
    result = await handler(Call(request, ctx, params, caller, None))
    return result if isinstance(result, Response) else Json(result)


async def _run_cached(handler: Handler, request: Request, scope, user: bool) -> Response:
    """A read whose whole response is kept per (token, URL) until the next commit.

    Concurrent misses on one key wait for the first (single flight): after a write, 32
    clients asking for the same page cost one rendering, not 32.
    """
    ctx: Context = request.app.state.ctx
    params = await read_body(request)
    store = caches(ctx)
    stamp = store.generation.value
    caller = await caller_from(None, request)
    _check(caller, scope, user)
    key = (caller.token_id if caller else None, str(request.url))
    hit = store.responses.get(key)
    if hit is None:
        leader = store.inflight.get((key, stamp))
        if leader is not None:
            hit = await asyncio.shield(leader)
    if hit is not None:
        store.hits += 1
        return Response(hit[0], headers=hit[1], media_type=Json.media_type)
    store.misses += 1
    flight: asyncio.Future = asyncio.get_running_loop().create_future()
    store.inflight[(key, stamp)] = flight
    kept = None  # what followers get; None sends them to run the handler themselves
    try:
        await ctx.db.behind_writes()
        async with ctx.db.read() as conn:
            result = await handler(Call(request, ctx, params, caller, conn))
        response = result if isinstance(result, Response) else Json(result)
        if response.status_code == 200 and len(response.body) <= MAX_CACHED_BODY:
            link = [("link", v.decode("latin-1")) for k, v in response.raw_headers if k == b"link"]
            kept = (response.body, dict(link))
            store.responses.put(key, stamp, kept, len(response.body))
            raw_key = fast_key(request.scope)
            # filed only if the token outlives the entry: a hit there checks no token at all
            lasts = caller is None or caller.expires > time.time() + store.raw_responses.ttl
            if raw_key is not None and lasts:
                raw = (response.body, tuple(response.raw_headers))
                store.raw_responses.put(raw_key, stamp, raw, len(response.body))
        return response
    finally:
        if store.inflight.get((key, stamp)) is flight:
            del store.inflight[(key, stamp)]
        flight.set_result(kept)


async def _call(request, ctx, params, conn, scope, user) -> Call:
    caller = await caller_from(conn, request)
    _check(caller, scope, user)
    return Call(request, ctx, params, caller, conn)


def _check(caller: Caller | None, access: Access, user: bool) -> None:
    if isinstance(access, IfToken):
        if caller is not None and not covers(caller.scopes, access.scope):
            raise ApiError(403, "This action is outside the authorized scopes")
    elif access != PUBLIC:
        require(caller, access, user=user)


def _required(access: Access) -> str | None:
    """The scope a call must carry (None: anonymous callers are welcome)."""
    return access if isinstance(access, str) and access != PUBLIC else None
