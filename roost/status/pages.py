"""Everything the status server serves, rendered at once from a ``View`` into bytes with ETags.

A refresh storm then costs a dictionary lookup and a socket write per request: no template, no
query, no JSON encoding, no compression on the serving path. Pages over 1 KiB also carry a
gzip variant compressed once per render (the page goes from 80 kB to about 3 kB), so a storm
costs little bandwidth too.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass

from roost.status import feeds, html, statuspage
from roost.status.view import View

HTML = "text/html; charset=utf-8"
JSON = "application/json"
ATOM = "application/atom+xml; charset=utf-8"
SVG = "image/svg+xml"

# Caches may keep a page briefly; during an incident it changes every few seconds at most.
_CACHE = b"public, max-age=5"


@dataclass(frozen=True)
class Page:
    body: bytes
    etag: bytes
    headers: tuple[tuple[bytes, bytes], ...]  # complete response headers for a 200
    gzipped: Page | None = None  # the same page gzip-encoded, for clients that accept it


def page(body: str | bytes, content_type: str, cors: bool = False) -> Page:
    data = body.encode() if isinstance(body, str) else body
    etag = hashlib.blake2b(data, digest_size=12).hexdigest().encode()
    common = [(b"content-type", content_type.encode()), (b"cache-control", _CACHE)]
    if cors:
        common.append((b"access-control-allow-origin", b"*"))
    gzipped = None
    if len(data) > 1024:
        common.append((b"vary", b"accept-encoding"))
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        gz_headers = [*common, (b"content-encoding", b"gzip")]
        gzipped = _variant(packed, b'"' + etag + b'-gz"', gz_headers)
    plain = _variant(data, b'"' + etag + b'"', common)
    return Page(plain.body, plain.etag, plain.headers, gzipped)


def _variant(data: bytes, etag: bytes, headers: list[tuple[bytes, bytes]]) -> Page:
    length = (b"content-length", str(len(data)).encode())
    return Page(data, etag, (*headers, length, (b"etag", etag)))


def render_all(view: View, cache: dict | None = None) -> dict[str, Page]:
    """All pages; incident pages are reused from ``cache`` while their incident is unchanged."""
    cache = {} if cache is None else cache
    status_html = page(html.status_page(view), HTML)
    pages = {"/": status_html, "/index.html": status_html}
    for path, document in statuspage.documents(view).items():
        pages[path] = page(json.dumps(document, separators=(",", ":")), JSON, cors=True)
    feed = page(feeds.atom(view), ATOM)
    pages["/history.atom"] = pages["/feed.atom"] = feed
    pages["/badge.svg"] = page(feeds.badge(view), SVG, cors=True)
    indicator = statuspage.indicator(view)[0]
    fresh = {}
    for incident in view.incidents[:200]:
        key = (incident.id, incident.updated_at, indicator)
        fresh[key] = cache.get(key) or page(html.incident_page(view, incident), HTML)
        pages[f"/incidents/{incident.id}"] = fresh[key]
    cache.clear()
    cache.update(fresh)
    return pages
