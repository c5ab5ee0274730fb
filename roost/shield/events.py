"""Attack events to the log and the status server, from a background task (never from a request).

Failure policy: the queue holds at most 100 events; when the status server is slow or down, an
event is tried once with a 2-second timeout and then dropped with a log line — an attack must not
turn the shield into a retry storm against its own status page.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from typing import Any

import httpx

log = logging.getLogger("roost.shield")
SOURCE = f"roost-shield/{socket.gethostname()}:{os.getpid()}"


class EventSender:
    def __init__(
        self,
        page_url: str,
        admin_token: str,
        timeout: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = page_url.rstrip("/") + "/api/admin/shield-events" if page_url else ""
        self.token = admin_token
        self.timeout = timeout
        self.transport = transport  # tests hand in an in-process handler
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)
        self.sent: list[dict[str, Any]] = []  # the last few, for /-/shield
        self._task: asyncio.Task | None = None

    def emit(self, event: dict[str, Any]) -> None:
        event = {**event, "source": SOURCE}
        log.warning("shield event %s", json.dumps(event, sort_keys=True))
        self.sent = [*self.sent[-19:], event]
        if not self.url:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("shield event queue full; dropped %s", event["type"])

    def start(self) -> None:
        if self.url and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        client = httpx.AsyncClient(timeout=self.timeout, headers=headers, transport=self.transport)
        async with client:
            while True:
                event = await self.queue.get()
                try:
                    response = await client.post(self.url, json=event)
                    if response.status_code >= 300:
                        log.warning(
                            "status server answered %s to %s", response.status_code, event["type"]
                        )
                except httpx.HTTPError as exc:
                    log.warning("could not send %s to the status server: %s", event["type"], exc)
