"""Requests a client is waiting for, counted so that background work can step aside for them.

Fan-out shares the event loop with requests. Its chunks are short, but a 10,000-follower post
is a few dozen of them in a row, and a post acknowledgement that lands behind several waits for
all of them (bench/run.py: p99 of acknowledgements while fan-outs run). Before each chunk the
fan-out asks ``step_aside``: while requests are in flight it waits, up to ``longest`` seconds,
for a moment with none. Fan-out gets slower by at most that per chunk; requests go first.
"""

from __future__ import annotations

import asyncio
import contextlib


class Foreground:
    def __init__(self) -> None:
        self.active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.active += 1
        self._idle.clear()

    def leave(self) -> None:
        self.active -= 1
        if self.active == 0:
            self._idle.set()

    async def step_aside(self, longest: float = 0.02) -> None:
        if self.active:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), longest)
