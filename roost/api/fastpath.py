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
"""

from __future__ import annotations

from typing import Any

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

    def __init__(self, app: Any, index: Cache, counted: Any = None) -> None:
        self.app = app
        self.index = index
        self.counted = counted  # the ApiCaches whose ``hits`` a hit here adds to

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = fast_key(scope)
        hit = self.index.get(key) if key is not None else None
        if hit is None:
            await self.app(scope, receive, send)
            return
        body, headers = hit
        if self.counted is not None:
            self.counted.hits += 1
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
