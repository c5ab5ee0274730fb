"""OpenGraph and Twitter card meta for a post's page and a profile page, so other sites (and
chat apps) can preview a Roost link from the page's <head> alone.

Only public and unlisted posts get any: a followers-only or direct post's page is not for
strangers, and its text must not reach a preview fetched with someone's cookie. A post behind a
content warning previews its warning, never its text. The pages are ``public`` for a logged-out
visitor (``render.py``), so the edge's cache answers a burst of link fetchers.
"""

from __future__ import annotations

import html
import re

from roost.services.context import Context

DESCRIPTION = 200  # characters of a post or bio a preview shows (cards show fewer)
TAG = re.compile(r"<[^>]*>")
BREAK = re.compile(r"</p>|<br\s*/?>", re.IGNORECASE)


def plain(stored: str | None, limit: int = DESCRIPTION) -> str:
    """A post's or bio's stored HTML (Roost's own renderer's) as short plain text."""
    text = html.unescape(TAG.sub("", BREAK.sub(" ", stored or "")))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _name(account: dict) -> str:
    return account["display_name"] or account["username"]


def _avatar(account: dict) -> tuple[str, str]:
    return account["avatar"], f"Avatar of {_name(account)}"


def of_status(ctx: Context, status: dict) -> dict | None:
    """A post's preview: its text, its first picture (else its author's avatar)."""
    shown = status["reblog"] or status
    if shown["visibility"] not in ("public", "unlisted"):
        return None
    author = shown["account"]
    hidden = bool(shown["spoiler_text"]) or bool(shown["sensitive"])
    if shown["spoiler_text"]:
        text = f"Content warning: {plain(shown['spoiler_text'])}"
    else:
        text = plain(shown["content"])
    pictures = [m for m in shown["media_attachments"] if m.get("preview_url")]
    if not text and pictures and not hidden:  # a post of pictures alone
        many = len(pictures)
        text = plain(pictures[0]["description"]) or f"{many} picture{'s' if many > 1 else ''}"
    og = {
        "type": "article",
        "site_name": ctx.settings.instance_name,
        "title": f"{_name(author)} (@{author['username']})",
        "description": text,
        "url": shown["url"],
        "card": "summary",
        "published": shown["created_at"],
    }
    if pictures and not hidden:  # a sensitive picture is not shown to whoever gets the link
        first = pictures[0]
        small = first["meta"].get("small") or {}
        og.update(image=first["preview_url"], image_alt=first["description"] or "A picture")
        og.update(width=small.get("width"), height=small.get("height"))
        og["card"] = "summary_large_image"
    else:
        og["image"], og["image_alt"] = _avatar(author)
    return og


def of_account(ctx: Context, account: dict) -> dict:
    """A profile's preview: its name, bio and avatar."""
    image, alt = _avatar(account)
    return {
        "type": "profile",
        "site_name": ctx.settings.instance_name,
        "title": f"{_name(account)} (@{account['username']})",
        "description": plain(account["note"]) or f"Posts by @{account['username']}",
        "url": account["url"],
        "card": "summary",
        "image": image,
        "image_alt": alt,
        "username": account["username"],
    }
