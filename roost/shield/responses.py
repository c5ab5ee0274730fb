"""Canned refusals: short bodies, pre-encoded headers, no router, no template, no database.

Both the ASGI layer and the connection protocol use these. Bodies are a line of plain text (or a
short JSON error under /api/, as Mastodon clients expect ``{"error": ...}``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from roost.shield.gcra import Decision

Send = Callable[[dict[str, Any]], Awaitable[None]]

MESSAGES = {
    400: "Bad request.",
    403: "Forbidden.",
    408: "Request timeout.",
    413: "Request body too large.",
    429: "Too many requests; slow down and retry after the time in Retry-After.",
    431: "Request headers too large.",
    503: "Roost is busy right now; please retry after the time in Retry-After.",
}


def retry_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def raw_response(status: int, retry_after: float | None = None, close: bool = True) -> bytes:
    """A whole HTTP/1.1 response as bytes, for the connection protocol."""
    body = (MESSAGES.get(status, HTTPStatus(status).phrase) + "\n").encode()
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "content-type: text/plain; charset=utf-8",
        f"content-length: {len(body)}",
    ]
    if retry_after is not None:
        lines.append(f"retry-after: {retry_seconds(retry_after)}")
    lines.append("connection: close" if close else "connection: keep-alive")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


_RAW_429: dict[int, bytes] = {s: raw_response(429, s, close=False) for s in range(1, 121)}


def raw_429(retry_after: float) -> bytes:
    """Canned keep-alive 429, cached per whole second of Retry-After (the hottest path)."""
    seconds = retry_seconds(retry_after)
    return _RAW_429.get(seconds) or raw_response(429, seconds, close=False)


RateHeaders = tuple[tuple[bytes, bytes], ...]
_RATE_HEADERS: dict[tuple[int, int, int], RateHeaders] = {}


def _iso_second(unix: int) -> bytes:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z").encode()


def rate_headers(decision: Decision, wall_now: float) -> RateHeaders:
    """Mastodon's X-RateLimit-* headers (Reset is an ISO 8601 time, rounded up to the second).

    Cached whole: a client's consecutive responses mostly repeat (limit, remaining, reset second),
    and formatting a datetime and two numbers per request is measurable. A tuple, so that no
    caller can change a cached entry."""
    key = (decision.limit, decision.remaining, math.ceil(wall_now + decision.reset_after))
    headers = _RATE_HEADERS.get(key)
    if headers is None:
        if len(_RATE_HEADERS) >= 4096:
            _RATE_HEADERS.clear()
        headers = _RATE_HEADERS[key] = (
            (b"x-ratelimit-limit", str(key[0]).encode()),
            (b"x-ratelimit-remaining", str(key[1]).encode()),
            (b"x-ratelimit-reset", _iso_second(key[2])),
        )
    return headers


# People meet these pages in a browser: the site's stylesheet, plain words, a way forward.
_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<link rel="stylesheet" href="/static/roost.css"><title>{title} - Roost</title></head>'
    '<body><main class="narrow"><h1>{title}</h1><p>{text}</p>'
    "<p>Please wait a moment and try again. Signed-in people are served first: "
    '<a href="/login">log in</a> if you have an account.</p></main></body></html>'
)


async def refuse(
    send: Send,
    status: int,
    path: str,
    retry_after: float | None = None,
    extra: list[tuple[bytes, bytes]] | RateHeaders | None = None,
    message: str | None = None,
    close: bool = True,
) -> None:
    """Send a short refusal through ASGI."""
    text = message or MESSAGES.get(status, HTTPStatus(status).phrase)
    if path.startswith("/api/") or path.startswith("/oauth/"):
        quoted = text.replace('"', "'")
        body = ('{"error":"' + quoted + '","error_description":"' + quoted + '"}').encode()
        ctype = b"application/json"
    else:
        body = _PAGE.format(title=HTTPStatus(status).phrase, text=html.escape(text)).encode()
        ctype = b"text/html; charset=utf-8"
    headers = [
        (b"content-type", ctype),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"content-security-policy", b"default-src 'none'; style-src 'self'"),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_seconds(retry_after)).encode()))
    if close:
        headers.append((b"connection", b"close"))
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
