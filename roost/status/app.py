"""The status server's ASGI app: pre-rendered pages from memory, and the admin API.

The serving path is deliberately tiny (a dict lookup, an ETag compare, two ``send`` calls) so a
refresh storm during an incident costs next to nothing; everything else lives under /api/admin/.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.types import Scope

from roost.status.admin import Admin
from roost.status.pages import Page
from roost.status.service import StatusService

log = logging.getLogger("roost.status")

Hook = Callable[[], Awaitable[None]]

_NOT_FOUND = b"Not found. The status page is at /.\n"
_PREFLIGHT = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
    (b"access-control-allow-headers", b"*"),
    (b"access-control-max-age", b"86400"),
    (b"content-length", b"0"),
]


class StatusApp:
    def __init__(
        self,
        service: StatusService,
        admin_token: str,
        on_startup: list[Hook] | None = None,
        on_shutdown: list[Hook] | None = None,
    ) -> None:
        self.service = service
        self.admin = Admin(service, admin_token)
        self.on_startup = on_startup or []
        self.on_shutdown = on_shutdown or []

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def http(self, scope: Scope, receive: Callable, send: Callable) -> None:
        method, path = scope["method"], scope["path"]
        if method in ("GET", "HEAD"):
            page = self.service.pages.get(path)
            if page is not None:
                await self.serve(scope, send, page, method == "HEAD")
                return
        if path.startswith("/api/admin/"):
            await self.admin(scope, receive, send)
            return
        if method == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": _PREFLIGHT})
            await send({"type": "http.response.body", "body": b""})
            return
        status = 404 if method in ("GET", "HEAD") else 405
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(_NOT_FOUND))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else _NOT_FOUND})

    async def serve(self, scope: Scope, send: Callable, page: Page, head: bool) -> None:
        match = b""
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                match = value
            elif name == b"accept-encoding" and page.gzipped and b"gzip" in value:
                page = page.gzipped
        if match == page.etag:
            headers = [(b"etag", page.etag)]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": page.headers})
        await send({"type": "http.response.body", "body": b"" if head else page.body})

    async def lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for hook in self.on_startup:
                        await hook()
                except Exception as error:
                    log.exception("status server failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for hook in self.on_shutdown:
                    await hook()
                await send({"type": "lifespan.shutdown.complete"})
                return
