"""``/static``: the site's CSS, JS and images, with cache headers that match how they are named.

Pages link assets as ``/static/name?v=<content hash>``; such a URL never changes meaning, so it is
cached for a year as immutable. A bare ``/static/roost.css`` (the shield's pages link it so) gets
an hour.
"""

from __future__ import annotations

from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from roost.web.render import STATIC_DIR, asset_version

YEAR = 365 * 24 * 3600


class Static:
    """StaticFiles plus Cache-Control (pure ASGI, so nothing is buffered)."""

    def __init__(self) -> None:
        self.files = StaticFiles(directory=STATIC_DIR)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = _policy(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                headers = list(message.get("headers", []))
                headers.append((b"cache-control", policy.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.files(scope, receive, send_with_headers)


def _policy(scope: Scope) -> str:
    name = scope.get("path", "").rsplit("/", 1)[-1]
    query = scope.get("query_string", b"").decode("latin-1")
    try:
        versioned = query == f"v={asset_version(name)}"
    except OSError:
        versioned = False
    return f"public, max-age={YEAR}, immutable" if versioned else "public, max-age=3600"
