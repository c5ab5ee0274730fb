"""Post text: parse mentions, hashtags and links; count as Mastodon counts; render safe HTML once.

Rendering happens at write time, so readers are served stored HTML and never re-parse. Every
character of user text passes through ``html.escape``; the only markup is what this module adds.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

URL_LENGTH = 23  # Mastodon counts every link as 23 characters, whatever its length.

_URL = r"(?P<url>https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]}])"
_MENTION = r"(?P<mention>(?<![\w/@])@(?P<username>[a-zA-Z0-9_]{1,30})(?:@(?P<host>[\w.-]+\w))?)"
_TAG = r"(?P<tag>(?<![\w/&#])#(?P<tagname>\w*[^\W\d_]\w*))"
TOKEN = re.compile(f"{_URL}|{_MENTION}|{_TAG}", re.UNICODE)


@dataclass
class ParsedText:
    """What a post's text refers to, in order of first appearance, without duplicates."""

    mentions: list[str] = field(default_factory=list)  # lower-cased local usernames
    tags: list[str] = field(default_factory=list)  # lower-cased hashtag names
    links: list[str] = field(default_factory=list)


def parse(text: str) -> ParsedText:
    parsed = ParsedText()
    for match in TOKEN.finditer(text):
        if match["url"]:
            _add(parsed.links, match["url"])
        elif match["mention"] and not match["host"]:
            _add(parsed.mentions, match["username"].lower())
        elif match["tag"]:
            _add(parsed.tags, match["tagname"].lower())
    return parsed


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def count(text: str) -> int:
    """Length as Mastodon counts it: code points, links as 23, remote mentions as @user."""

    def weight(match: re.Match[str]) -> str:
        if match["url"]:
            return "x" * URL_LENGTH
        if match["mention"]:
            return "@" + match["username"]
        return match[0]

    return len(TOKEN.sub(weight, text))


def render(text: str, base_url: str, known_users: set[str] | frozenset[str] = frozenset()) -> str:
    """Safe HTML for ``text``: paragraphs, line breaks, and links for URLs, mentions and tags.

    Mentions become links only for usernames in ``known_users`` (lower-case), so a mention of
    nobody stays plain text.
    """
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(f"<p>{_render_paragraph(p, base_url, known_users)}</p>" for p in paragraphs)


def _render_paragraph(text: str, base_url: str, known_users: set[str] | frozenset[str]) -> str:
    out: list[str] = []
    position = 0
    for match in TOKEN.finditer(text):
        out.append(html.escape(text[position : match.start()]))
        out.append(_render_token(match, base_url, known_users))
        position = match.end()
    out.append(html.escape(text[position:]))
    return "".join(out).replace("\n", "<br>")


def _render_token(match: re.Match[str], base_url: str, known: set[str] | frozenset[str]) -> str:
    if match["url"]:
        url = html.escape(match["url"])
        shown = html.escape(_shorten(match["url"]))
        return f'<a href="{url}" rel="nofollow noopener noreferrer" target="_blank">{shown}</a>'
    if match["mention"]:
        name = match["username"]
        if match["host"] or name.lower() not in known:
            return html.escape(match[0])
        href = html.escape(f"{base_url}/@{name.lower()}")
        return (
            f'<span class="h-card"><a href="{href}" class="u-url mention">'
            f"@<span>{html.escape(name)}</span></a></span>"
        )
    name = match["tagname"]
    href = html.escape(f"{base_url}/tags/{name.lower()}")
    return (
        f'<a href="{href}" class="mention hashtag" rel="tag">#<span>{html.escape(name)}</span></a>'
    )


def _shorten(url: str) -> str:
    shown = re.sub(r"^https?://(www\.)?", "", url)
    return shown if len(shown) <= 30 else shown[:29] + "…"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str | None) -> str:
    """User text without control characters: NUL breaks PostgreSQL, the rest breaks pages."""
    return _CONTROL.sub("", text or "")


def plain_text(text: str) -> str:
    """Text with whitespace collapsed, for search indexing and notifications."""
    return " ".join(text.split())


def normalize_tag(name: str) -> str | None:
    """A hashtag name as stored (lower-case, no '#'), or None if it is not a valid tag."""
    name = name.lstrip("#").strip().lower()
    return name if re.fullmatch(r"\w*[^\W\d_]\w*", name) and len(name) <= 100 else None
