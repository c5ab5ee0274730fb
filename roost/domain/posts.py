"""Post rules: length, visibility, and who may see what."""

from __future__ import annotations

from enum import StrEnum

from roost.domain import text
from roost.domain.errors import Invalid

MAX_SPOILER = 500
MAX_LANGUAGE = 8


class Visibility(StrEnum):
    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"  # followers only
    DIRECT = "direct"


def check_visibility(raw: str | None) -> Visibility:
    try:
        return Visibility(text.clean(raw or "public").strip().lower())
    except ValueError:
        raise Invalid("visibility", "must be public, unlisted, private or direct") from None


def check_text(body: str, limit: int, blank: bool = False) -> str:
    """A post's text, cleaned; ``blank`` allows none (a post of pictures alone)."""
    body = text.clean(body).replace("\r\n", "\n").strip()
    if not body and not blank:
        raise Invalid("text", "can't be blank")
    if text.count(body) > limit:
        raise Invalid("text", f"is too long (maximum is {limit} characters)")
    return body


def check_spoiler(raw: str | None) -> str:
    spoiler = text.clean(raw).strip()
    if len(spoiler) > MAX_SPOILER:
        raise Invalid("spoiler_text", f"must be at most {MAX_SPOILER} characters")
    return spoiler


def check_language(raw: str | None) -> str | None:
    lang = text.clean(raw).strip().lower()
    if not lang:
        return None
    if len(lang) > MAX_LANGUAGE or not lang.replace("-", "").isalpha():
        raise Invalid("language", "must be an ISO 639 code")
    return lang


def in_public_timelines(visibility: str) -> bool:
    return visibility == Visibility.PUBLIC


def visible_to(
    visibility: str,
    author_id: int,
    viewer_id: int | None,
    viewer_follows_author: bool,
    mentioned: bool = False,
) -> bool:
    """Whether a viewer may read a post (blocks are the service's concern)."""
    if visibility in (Visibility.PUBLIC, Visibility.UNLISTED) or viewer_id == author_id:
        return True
    if visibility == Visibility.PRIVATE:
        return viewer_follows_author or mentioned
    return mentioned
