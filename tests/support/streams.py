"""An SSE stream read on a thread, for tests that watch what a live server streams."""

from __future__ import annotations

import queue
import threading
import time

import httpx


class SseReader:
    """Reads an SSE stream on a thread, handing over (event, data) pairs; comment lines (the
    heartbeats) come as ("comment", line)."""

    def __init__(self, url: str, headers: dict | None = None) -> None:
        self.events: queue.Queue = queue.Queue()
        self.status: queue.Queue = queue.Queue()
        self.client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self.thread = threading.Thread(target=self._run, args=(url, headers or {}), daemon=True)
        self.thread.start()
        assert self.status.get(timeout=10) == 200

    def _run(self, url: str, headers: dict) -> None:
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                self.status.put(response.status_code)
                event = None
                for line in response.iter_lines():
                    if line.startswith(":"):
                        self.events.put(("comment", line))
                    elif line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        self.events.put((event, line[6:]))
        except httpx.HTTPError:
            pass

    def next(self, timeout: float = 5.0, kinds: tuple | None = None) -> tuple[str, str]:
        """The next event (of ``kinds``, if given; heartbeats are skipped unless asked for)."""
        deadline = time.monotonic() + timeout
        while True:
            kind, data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if (kinds is None and kind != "comment") or (kinds is not None and kind in kinds):
                return kind, data

    def close(self) -> None:
        self.client.close()
