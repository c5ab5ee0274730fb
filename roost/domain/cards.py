"""Preview cards, the pure part: which link of a post gets a card, the one spelling of its URL
that every post linking it shares, and what a page says about itself (OpenGraph, Twitter and
plain HTML meta tags).

The page is read with the standard library's ``html.parser``: a card needs a few start tags
and the ``<title>`` text, which a tolerant tokenizer gives without a dependency; a tree
builder (BeautifulSoup, selectolax) would parse far more of an untrusted page than is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

from roost.domain import text

HTML_TYPES = ("text/html", "application/xhtml+xml")
MOST_TITLE = 200  # characters kept of a title, as Mastodon keeps
MOST_DESCRIPTION = 1000
MOST_NAME = 200
MOST_URL = 2000


def normalize(url: str) -> str | None:
    """``url`` as cards are kept by: scheme and host lower-cased, the fragment dropped, the
    default port left out; None for what is not a plain http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host or len(url) > MOST_URL:
        return None
    if parts.username is not None or parts.password is not None:
        return None  # credentials in a link are never sent anywhere
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def link_of(body: str, base_url: str) -> str | None:
    """The link a post's card is made from: its first, as Mastodon takes it (mentions and
    hashtags are not links here), unless it points back at this instance; normalized."""
    own = urlsplit(base_url).hostname
    for found in text.parse(body).links:
        url = normalize(found)
        if url is not None and urlsplit(url).hostname != own:
            return url
    return None


@dataclass(frozen=True)
class Page:
    """What a page says about itself, cleaned and bounded; ``image_url`` is absolute."""

    title: str
    description: str = ""
    author_name: str = ""
    author_url: str = ""
    provider_name: str = ""
    provider_url: str = ""
    image_url: str | None = None
    width: int = 0
    height: int = 0
    language: str | None = None


class _Meta(HTMLParser):
    """The head's meta tags (first value of each name wins), ``<title>`` and ``<html lang>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title: list[str] = []
        self.in_title = False
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): v or "" for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or "").strip().lower()
            if key and "content" in a:
                self.meta.setdefault(key, a["content"])
        elif tag == "title":
            self.in_title = True
        elif tag == "html":
            self.lang = a.get("lang", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False

    def handle_data(self, data: str) -> None:
        if self.in_title and sum(map(len, self.title)) < MOST_TITLE * 2:
            self.title.append(data)


def read_page(html: str, url: str) -> Page | None:
    """The card a page makes, or None when it has no title to show."""
    parser = _Meta()
    parser.feed(html)
    parser.close()
    m = parser.meta

    def first(*keys: str) -> str:
        return next((_clean(m[k]) for k in keys if _clean(m.get(k, ""))), "")

    title = first("og:title", "twitter:title") or _clean("".join(parser.title))
    if not title:
        return None
    return Page(
        title=title[:MOST_TITLE],
        description=first("og:description", "twitter:description", "description")[
            :MOST_DESCRIPTION
        ],
        author_name=first("author", "article:author")[:MOST_NAME],
        author_url=_absolute(first("profile:url"), url) or "",
        provider_name=first("og:site_name", "application-name")[:MOST_NAME],
        image_url=_absolute(first("og:image", "og:image:url", "twitter:image"), url),
        language=_language(first("og:locale") or parser.lang),
    )


def _clean(value: str) -> str:
    return " ".join(text.clean(value).split())


def _absolute(found: str, page_url: str) -> str | None:
    if not found:
        return None
    return normalize(urljoin(page_url, found))


_LANGUAGE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_].*)?$")


def _language(found: str) -> str | None:
    """A two- or three-letter ISO 639 code, as Status.language is (``en_GB`` -> ``en``)."""
    matched = _LANGUAGE.match(found.strip())
    return matched.group(1).lower() if matched else None


def charset_of(content_type: str, head: bytes) -> str:
    """The encoding a page is in: its Content-Type's, else a ``<meta charset>`` in its first
    bytes, else UTF-8 (decoding replaces what does not fit)."""
    declared = re.search(r"charset=[\"']?([\w-]+)", content_type, re.IGNORECASE)
    if declared is not None:
        return declared.group(1)
    in_page = re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", head[:2048], re.IGNORECASE)
    return in_page.group(1).decode("ascii") if in_page else "utf-8"


def is_html(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in HTML_TYPES
