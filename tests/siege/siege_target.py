"""A small real HTTP/1.1 server for siege's tests: counts requests per client address.

Run as a process: ``python siege_target.py --header-timeout 1.5``; it prints its port on the
first line of stdout. ``GET /__stats`` answers JSON: requests and connections per peer address,
how many connections it cut for slow headers or bodies, and how many are open. Paths under
``/shed`` answer 429, ``/delay/<seconds>`` answers 200 that much later, everything else 200 with
a short body (keep-alive, Content-Length).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import signal
import sys
from collections import Counter

REQUESTS: Counter[str] = Counter()
CONNECTIONS: Counter[str] = Counter()
STATE = {"cut": 0, "open": 0}


class Handler(asyncio.Protocol):
    def __init__(self, header_timeout: float) -> None:
        self.header_timeout = header_timeout
        self.buffer = bytearray()
        self.body_left = 0
        self.transport: asyncio.Transport | None = None
        self.deadline: asyncio.TimerHandle | None = None
        self.peer = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.peer = transport.get_extra_info("peername")[0]
        CONNECTIONS[self.peer] += 1
        STATE["open"] += 1
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        STATE["open"] -= 1
        if self.deadline:
            self.deadline.cancel()

    def _arm(self) -> None:
        if self.deadline:
            self.deadline.cancel()
        loop = asyncio.get_running_loop()
        self.deadline = loop.call_later(self.header_timeout, self._cut)

    def _cut(self) -> None:
        STATE["cut"] += 1
        assert self.transport is not None
        self.transport.write(b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n")
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.body_left:
                take = min(self.body_left, len(self.buffer))
                del self.buffer[:take]
                self.body_left -= take
                if self.body_left:
                    return
                self._answer()
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[: end + 4]
            self.path = head.split(" ", 2)[1]
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            self.body_left = length
            if not length:
                self._answer()

    def _answer(self) -> None:
        REQUESTS[self.peer] += 1
        assert self.transport is not None
        if self.path.startswith("/__stats"):
            body = json.dumps({"requests": REQUESTS, "connections": CONNECTIONS, **STATE}).encode()
        elif self.path.startswith("/shed"):
            self._send(429, b"slow down")
            return
        elif self.path.startswith("/delay/"):  # /delay/1.5: answer 200 after 1.5 s
            seconds = float(self.path.split("/")[2])
            asyncio.get_running_loop().call_later(seconds, self._send, 200, b"late\n")
            return
        else:
            body = b"ok\n"
        self._send(200, body)

    def _send(self, status: int, body: bytes) -> None:
        reason = {200: "OK", 429: "Too Many Requests"}[status]
        head = f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n\r\n"
        self.transport.write(head.encode() + body)  # type: ignore[union-attr]
        self._arm()


async def main(header_timeout: float, port: int, host: str) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        functools.partial(Handler, header_timeout), host, port, backlog=4096
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--header-timeout", type=float, default=30.0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        asyncio.run(main(args.header_timeout, args.port, args.host))
    except KeyboardInterrupt:
        sys.exit(0)
