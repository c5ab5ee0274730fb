"""Counting the requests a client is waiting for (``roost.services.foreground`` is why)."""

from __future__ import annotations

from typing import Any

from starlette.types import Receive, Scope, Send

from roost.services.foreground import Foreground
from roost.shield.endpoints import STREAM_PREFIXES


class CountForeground:
    """Pure ASGI middleware that keeps ``Foreground.active``.

    Live streams are not counted: they stay open for hours, and nobody waits on them in this sense.
    """

    def __init__(self, app: Any, foreground: Foreground) -> None:
        self.app = app
        self.foreground = foreground

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(STREAM_PREFIXES):
            await self.app(scope, receive, send)
            return
        self.foreground.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.foreground.leave()
