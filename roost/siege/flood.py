"""The request flood: keep-alive connections from many sources, paced by a rate schedule.

Raw asyncio protocols (on uvloop) and pre-formatted requests keep the per-request cost to a few
microseconds. Each connection carries one request at a time, or up to ``pipeline`` (HTTP/1.1
pipelining, as a flooder that wants the most requests per packet does: one write and one read
carry several); a pacer hands out send tokens at the scheduled rate, and a connection that
finishes a response sends again at once when a token is waiting. Scheduled sends that find no
free connection are counted as ``behind``: the flood could not keep its schedule, because the
server is slow or because the generator is.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Sequence

from roost.siege.guard import Target
from roost.siege.profiles import Profile
from roost.siege.schedule import Schedule
from roost.siege.sources import connect
from roost.siege.stats import ClassStats
from roost.siege.wire import BadResponse, ResponseParser

PACER_TICK_S = 0.002
MAX_PARALLEL_OPENS = 64  # connects in flight at once, so a dead server does not eat all fds
TOKEN_SLACK_S = 0.05  # tokens older than this are dropped and counted as behind


class Budget:
    """The run's remaining request allowance (``--max-requests``), shared by its floods."""

    def __init__(self, remaining: int) -> None:
        self.remaining = remaining

    def take(self) -> bool:
        return self.take_up_to(1) == 1

    def take_up_to(self, wanted: int) -> int:
        """Take as many as are left, up to ``wanted``; how many were taken."""
        taken = max(0, min(wanted, self.remaining))
        self.remaining -= taken
        return taken


class FloodConnection(asyncio.Protocol):
    """One bot connection: sends requests, waits for their responses, repeats."""

    __slots__ = ("flood", "parser", "sent", "transport", "used")

    def __init__(self, flood: RequestFlood) -> None:
        self.flood = flood
        self.parser = ResponseParser()
        self.transport: asyncio.Transport | None = None
        self.sent: deque[float] = deque()  # when each request still awaiting its response was sent
        self.used = 0

    @property
    def busy(self) -> bool:
        return bool(self.sent)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            statuses = self.parser.feed(data)
        except BadResponse:
            self.flood.on_bad_response(self)
            return
        for status in statuses:
            self.flood.on_response(self, status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.flood.on_lost(self, self.parser.eof())


class Attack:
    """What every attack of one phase holds: its profile, target, sources, pace and counters."""

    def __init__(
        self,
        profile: Profile,
        target: Target,
        sources: Sequence[str | None],
        connections: int,
        schedule: Schedule,
        stats: ClassStats,
        budget: Budget,
    ) -> None:
        self.profile = profile
        self.target = target
        self.connections = max(1, connections)
        self.schedule = schedule
        self.stats = stats
        self.budget = budget
        self._sources = itertools.cycle(sources)
        self._open: set = set()
        self._opening = 0


class RequestFlood(Attack):
    """One attack of a request profile during one phase."""

    def __init__(self, *args, rotate_after: int = 100, pipeline: int = 1, **kw) -> None:
        super().__init__(*args, **kw)
        self.rotate_after = rotate_after
        self.pipeline = max(1, pipeline)
        self._idle: deque[FloodConnection] = deque()
        self._tokens = 0.0
        self._paced = self.schedule.peak() is not None
        self._running = False
        self._wake = asyncio.Event()

    async def run(self, started: float, until: float, stop: asyncio.Event) -> None:
        """Flood from ``started`` (monotonic) until ``until``, the budget runs out, or stop."""
        self._running = True
        opener = asyncio.create_task(self._keep_open())
        try:
            await self._pace(started, until, stop)
        finally:
            self._running = False
            opener.cancel()
            await asyncio.gather(opener, return_exceptions=True)
            self.close()

    def close(self) -> None:
        for conn in list(self._open):
            self.stats.unfinished += len(conn.sent)
            conn.sent.clear()
            if conn.transport is not None:
                conn.transport.abort()
        self._open.clear()
        self._idle.clear()

    def on_response(self, conn: FloodConnection, status: int) -> None:
        if not conn.sent:  # a response nobody asked for (after close): not ours to count
            return
        self.stats.record(status, time.monotonic() - conn.sent.popleft(), 200 <= status < 300)
        if conn.parser.wants_close or conn.used >= self.rotate_after:
            if not conn.sent:  # the last answer to what was sent on it: move on
                conn.transport.close()  # type: ignore[union-attr]
        elif self._running and not conn.sent:
            self._dispatch(conn)

    def on_bad_response(self, conn: FloodConnection) -> None:
        """Garbage instead of HTTP: count the requests as unanswered and drop the connection."""
        for _ in conn.sent:
            self.stats.record_error("bad_response")
        conn.sent.clear()
        conn.transport.abort()  # type: ignore[union-attr]

    def on_lost(self, conn: FloodConnection, eof_status: int | None) -> None:
        self._open.discard(conn)
        if conn.sent:
            if eof_status is not None:
                self.stats.record(eof_status, time.monotonic() - conn.sent.popleft(), False)
            for _ in conn.sent:
                self.stats.record_error("closed" if conn.used else "closed_before_answer")
            conn.sent.clear()
        self._wake.set()

    def _dispatch(self, conn: FloodConnection) -> bool:
        """Send on an idle ``conn`` now if the schedule allows, else park it; True if it sent."""
        count = self.pipeline
        if self._paced:
            count = min(count, int(self._tokens))
            if count < 1:
                self._idle.append(conn)
                return False
        sent = self._send(conn, count)
        if self._paced:
            self._tokens -= sent  # what the budget or the rotation cut stays for another
        return sent > 0

    def _send(self, conn: FloodConnection, count: int = 1) -> int:
        """Send up to ``count`` requests on ``conn`` in one write; how many were sent."""
        count = self.budget.take_up_to(min(count, self.rotate_after - conn.used))
        if not count:
            self._idle.append(conn)
            return 0
        conn.used += count
        now = time.monotonic()
        conn.sent.extend(itertools.repeat(now, count))
        self.stats.sent += count
        request = self.profile.request
        data = request() if count == 1 else b"".join(request() for _ in range(count))
        conn.transport.write(data)  # type: ignore[union-attr]
        return count

    async def _pace(self, started: float, until: float, stop: asyncio.Event) -> None:
        last = time.monotonic()
        while not stop.is_set() and self.budget.remaining > 0:
            await asyncio.sleep(PACER_TICK_S)
            now = time.monotonic()
            if now >= until:
                return
            if self._paced:
                self._add_tokens(self.schedule.rate_at(now - started) or 0.0, now - last)
            last = now
            while self._idle and (self._tokens >= 1.0 or not self._paced):
                conn = self._idle.popleft()
                if conn in self._open and not conn.busy and not self._dispatch(conn):
                    break

    def _add_tokens(self, rate: float, elapsed: float) -> None:
        self._tokens += rate * elapsed
        cap = max(rate * TOKEN_SLACK_S, 1.0)
        if self._tokens > cap:
            if not self._idle:
                self.stats.behind += self._tokens - cap
            self._tokens = cap

    async def _keep_open(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                self._wake.clear()
                missing = self.connections - len(self._open) - self._opening
                for _ in range(min(missing, MAX_PARALLEL_OPENS - self._opening)):
                    task = asyncio.create_task(self._open_one(next(self._sources)))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                try:
                    async with asyncio.timeout(0.05):
                        await self._wake.wait()
                except TimeoutError:
                    pass
        finally:
            for task in tasks:
                task.cancel()

    async def _open_one(self, source: str | None) -> None:
        self._opening += 1
        try:
            _, conn = await connect(source, self.target, lambda: FloodConnection(self))
        except (OSError, TimeoutError) as error:
            self.stats.connect_failures += 1
            if not isinstance(error, TimeoutError):
                await asyncio.sleep(0.01)  # a refusing server: do not spin
            return
        finally:
            self._opening -= 1
            self._wake.set()
        assert isinstance(conn, FloodConnection)
        if not self._running:
            conn.transport.abort()  # type: ignore[union-attr]
            return
        self._open.add(conn)
        self._dispatch(conn)
