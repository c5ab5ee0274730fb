"""Canned refusals: short bodies, pre-encoded headers, no router, no template, no database.

Both the ASGI layer and the connection protocol use these. Browsers get a small page in the
site's look (``RefusalPages``, built once per wait); API clients a JSON error, as Mastodon clients
expect ``{"error": ...}``; anything else a line of plain text.
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
PAGE_CSP = "default-src 'none'; style-src 'self'"

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


def raw_response(
    status: int, retry_after: float | None = None, close: bool = True, html_body: bytes = b""
) -> bytes:
    """A whole HTTP/1.1 response as bytes, for the connection protocol (plain text unless
    ``html_body`` is given, for a browser)."""
    body = html_body or (MESSAGES.get(status, HTTPStatus(status).phrase) + "\n").encode()
    ctype = "text/html" if html_body else "text/plain"
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        f"content-type: {ctype}; charset=utf-8",
        f"content-length: {len(body)}",
    ]
    if html_body:
        lines += ["cache-control: no-store", f"content-security-policy: {PAGE_CSP}"]
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


# People meet these pages in a browser: the site's look, plain words, a way forward.
_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<meta name="color-scheme" content="light dark">'
    '<link rel="stylesheet" href="/static/roost.css"><title>{title} · {name}</title></head>'
    '<body><header class="site"><nav aria-label="Main"><a class="brand" href="/">{name}</a>'
    '</nav></header><main id="main" class="narrow"><h1>{title}</h1><p>{text}</p>'
    "<p>{wait}</p>{login}</main>"
    '<footer class="site"><p>{name}: <a href="{status}">service status</a>, which says what '
    "is happening while Roost is busy.</p></footer></body></html>"
)

# Titles and words for people; MESSAGES above are for API clients, which read Retry-After.
PAGE_WORDS = {
    400: ("That request was not understood", "Your browser sent something Roost cannot read."),
    403: ("Not allowed", "Roost cannot let this request through."),
    404: ("Not found", "There is nothing here."),
    408: ("That took too long", "Your browser took too long to send its request."),
    413: ("That is too large", "What your browser sent is larger than Roost accepts."),
    429: (
        "Slow down a little",
        "Roost received more requests from your address than it takes from one place in a "
        "short time.",
    ),
    431: ("That request was not understood", "Your browser sent more headers than Roost reads."),
    503: (
        "Roost is very busy",
        "Roost is defending itself against a flood of traffic and could not serve this page just "
        "now. Nothing you did caused this.",
    ),
}
_LOGIN = (
    '<p>Signed-in people are served first: <a href="/login">log in</a> if you have an account.</p>'
)


class RefusalPages:
    """The HTML refusals a browser sees, in the site's look, with its name and status page."""

    def __init__(self, name: str = "Roost", status_url: str = "") -> None:
        self.name, self.status_url = html.escape(name), html.escape(status_url or "/", quote=True)
        self._raw_429: dict[int, bytes] = {}

    def page(
        self,
        status: int,
        message: str | None = None,
        retry_after: float | None = None,
        signed_in: bool = False,
    ) -> bytes:
        title, text = PAGE_WORDS.get(status, (HTTPStatus(status).phrase, ""))
        if retry_after is None:
            wait = "Please go back and try again."
        else:
            seconds = retry_seconds(retry_after)
            wait = f"Please try again in {seconds} second{'s' * (seconds != 1)}."
        busy = status in (429, 503) and not signed_in
        return _PAGE.format(
            title=title,
            text=html.escape(message or text),
            wait=wait,
            login=_LOGIN if busy else "",
            name=self.name,
            status=self.status_url,
        ).encode()

    def raw_429(self, retry_after: float) -> bytes:
        """The protocol's canned keep-alive 429 for a browser (cached per second of wait)."""
        seconds = retry_seconds(retry_after)
        cached = self._raw_429.get(seconds)
        if cached is None:
            body = self.page(429, retry_after=seconds)
            cached = raw_response(429, seconds, close=False, html_body=body)
            if seconds <= 120:
                self._raw_429[seconds] = cached
        return cached


DEFAULT_PAGES = RefusalPages()


async def refuse(
    send: Send,
    status: int,
    path: str,
    retry_after: float | None = None,
    extra: list[tuple[bytes, bytes]] | RateHeaders | None = None,
    message: str | None = None,
    close: bool = True,
    pages: RefusalPages = DEFAULT_PAGES,
    signed_in: bool = False,
) -> None:
    """Send a short refusal through ASGI: JSON under /api/ and /oauth/, a page elsewhere."""
    if path.startswith("/api/") or path.startswith("/oauth/"):
        text = message or MESSAGES.get(status, HTTPStatus(status).phrase)
        quoted = text.replace('"', "'")
        body = ('{"error":"' + quoted + '","error_description":"' + quoted + '"}').encode()
        ctype = b"application/json"
    else:
        body = pages.page(status, message, retry_after, signed_in)
        ctype = b"text/html; charset=utf-8"
    headers = [
        (b"content-type", ctype),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"content-security-policy", PAGE_CSP.encode()),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_seconds(retry_after)).encode()))
    if close:
        headers.append((b"connection", b"close"))
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
