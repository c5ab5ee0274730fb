"""Repeated API reads answered before the router: the response cache's front door.

``roost.api.endpoint`` keeps whole GET responses of timelines per (token, URL) until the next
commit. Finding one still meant the middleware stack, the router, a ``Request``, the token's
digest and a ``Response`` object: most of a cached page's cost. This layer sits first in the
site's middleware and answers from a second index of the same entries, keyed by the raw request
(``Authorization``, ``Host``, path, query), so a hit is a dictionary lookup and two ``send``s.

The second index only ever holds what the endpoint filed after the full path had checked the
token and its scopes for that very URL, and it shares the response cache's generation: any
commit (a post, a revoked token, a suspension) empties both. Requests whose answer the outer
middleware would change (a ``Cookie`` for the session, an ``Origin`` for CORS) always take the
full path. The shield stays in front of this layer, so cached answers are still rate-limited.

A miss on one of the hot read routes (``lanes``: home, public, tag, a profile's posts, a
thread) goes to that route's handler from here, not down the middleware stack and the router:
for those requests (no ``Cookie``, no ``Origin``) the CORS and session layers change nothing,
and passing through them and matching the whole route table cost about a tenth of an uncached
page. The handler is the same ``endpoint``; an error it does not answer itself still reaches the
outermost error layer (a 500 in Mastodon's shape).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from roost.api.cache import Cache

Key = tuple[bytes, bytes, str, bytes]


def fast_key(scope: Scope) -> Key | None:
    """The raw request's identity, or None when the full path must answer it."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    authorization = host = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if authorization is not None:
                return None  # two credentials: the router reads the first, a key the last
            authorization = value
        elif name == b"host":
            if host is not None:
                return None
            host = value
        elif name == b"cookie" or name == b"origin":
            return None
    return (authorization or b"", host or b"", scope["path"], scope["query_string"])


class CachedReads:
    """Pure ASGI middleware: a hit in ``index`` is sent as is; anything else passes through."""

    def __init__(
        self, app: Any, index: Cache, counted: Any = None, lanes: Sequence[BaseRoute] = ()
    ) -> None:
        self.app = app
        self.index = index
        self.counted = counted  # the ApiCaches whose ``hits`` a hit here adds to
        self.lanes = tuple(lanes)  # GET routes a miss goes to straight from here

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = fast_key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        hit = self.index.get(key)
        if hit is None:
            await self._miss(scope, receive, send)
            return
        body, headers = hit
        if self.counted is not None:
            self.counted.hits += 1
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _miss(self, scope: Scope, receive: Receive, send: Send) -> None:
        for route in self.lanes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                scope.update(child)
                await route.handle(scope, receive, send)
                return
        await self.app(scope, receive, send)
