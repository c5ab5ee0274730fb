"""HTTP/1.1 on the wire for the flood: requests as ready bytes and a minimal response parser.

The generator must reach tens of thousands of requests a second from one core, so it does not use
an HTTP client library: requests are formatted once into bytes, and the parser below only finds
where each response ends and what its status was (Content-Length, chunked, or close-delimited).
"""

from __future__ import annotations

from collections.abc import Iterable

BROWSER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
)


def request_bytes(
    method: str,
    path: str,
    host: str,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    agent: str = BROWSER_AGENTS[0],
    accept: str = "*/*",
) -> bytes:
    """One complete keep-alive HTTP/1.1 request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"User-Agent: {agent}"]
    lines.append(f"Accept: {accept}")
    lines.extend(f"{name}: {value}" for name, value in headers)
    if body or method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class BadResponse(ValueError):
    """The server sent something that is not an HTTP/1.x response."""


class ResponseParser:
    """Splits a byte stream into responses; reports each response's status when it is complete."""

    __slots__ = ("_buffer", "_chunked", "_close", "_remaining", "_status")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._status = 0
        self._remaining = -1  # body bytes still expected; -1 while reading headers
        self._chunked = False
        self._close = False

    def feed(self, data: bytes) -> list[int]:
        """Statuses of the responses completed by this data (usually zero or one).

        Raises BadResponse for bytes that are not HTTP/1.x (the connection is then useless).
        """
        self._buffer += data
        done: list[int] = []
        try:
            while self._step(done):
                pass
        except ValueError as error:  # a status or a length that is not a number
            raise BadResponse(str(error)) from None
        return done

    def eof(self) -> int | None:
        """At connection close: the status of a close-delimited response that just ended."""
        if self._close and self._status and self._remaining == -2:
            return self._status
        return None

    @property
    def wants_close(self) -> bool:
        return self._close

    @property
    def in_response(self) -> bool:
        return self._remaining != -1 or bool(self._buffer)

    def _step(self, done: list[int]) -> bool:
        if self._remaining == -1:
            if not self._read_head():
                return False
            self._finish_empty(done)
            return True
        if self._remaining == -2:  # body runs to the end of the connection
            self._buffer.clear()
            return False
        if self._chunked:
            return self._read_chunk(done)
        take = min(self._remaining, len(self._buffer))
        del self._buffer[:take]
        self._remaining -= take
        if self._remaining == 0:
            self._finish(done)
            return True
        return False

    def _read_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buffer[:end]).lower()
        del self._buffer[: end + 4]
        if not head.startswith(b"http/1."):
            raise BadResponse(f"not an HTTP/1.x status line: {head[:40]!r}")
        self._status = int(head[9:12])
        self._close = b"connection: close" in head or head.startswith(b"http/1.0")
        self._chunked = b"transfer-encoding: chunked" in head
        length = _content_length(head)
        if self._status in (204, 304) or 100 <= self._status < 200:
            length = 0
        if self._chunked:
            self._remaining = 0
        elif length is not None:
            self._remaining = length
        else:
            self._remaining = -2
        return True

    def _finish_empty(self, done: list[int]) -> None:
        if self._remaining == 0 and not self._chunked:
            self._finish(done)

    def _read_chunk(self, done: list[int]) -> bool:
        if self._remaining > 0:
            take = min(self._remaining, len(self._buffer))
            del self._buffer[:take]
            self._remaining -= take
            return self._remaining == 0
        line_end = self._buffer.find(b"\r\n")
        if line_end < 0:
            return False
        line = bytes(self._buffer[:line_end]).split(b";", 1)[0].strip()
        if not line:  # the CRLF after a chunk's data
            del self._buffer[:2]
            return True
        size = int(line, 16)
        if size == 0:
            trailer_end = self._buffer.find(b"\r\n\r\n", line_end)
            if trailer_end < 0:
                return False
            del self._buffer[: trailer_end + 4]
            self._finish(done)
            return True
        del self._buffer[: line_end + 2]
        self._remaining = size
        return True

    def _finish(self, done: list[int]) -> None:
        done.append(self._status)
        self._remaining = -1
        self._chunked = False


def _content_length(head: bytes) -> int | None:
    at = head.find(b"\r\ncontent-length:")
    if at < 0:
        return None
    start = at + 17
    end = head.find(b"\r\n", start)
    return int(head[start : end if end >= 0 else len(head)].strip())
