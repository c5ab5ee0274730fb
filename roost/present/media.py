"""Mastodon's MediaAttachment, from what a post shows (``roost.services.media.shown``) or from
an upload's row: URLs are absolute, from wherever the files live (``roost.store.media_files``).
"""

from __future__ import annotations

from typing import Any

import orjson

from roost.services import media as media_service
from roost.services.context import Context, Row


def attachment(ctx: Context, shown: dict[str, Any]) -> dict[str, Any]:
    files = ctx.media_files
    original, small = shown["file"], shown["small"]
    return {
        "id": shown["id"],
        "type": shown["type"],
        "url": files.url(original) if original else None,
        "preview_url": files.url(small) if small else None,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": shown["meta"],
        "description": shown["description"],
        "blurhash": shown["blurhash"],
    }


def upload(ctx: Context, row: Row) -> dict[str, Any]:
    """An upload as its owner sees it (``url`` null while it is processed)."""
    return attachment(ctx, media_service.shown(row))


def attached(ctx: Context, raw: str | None) -> list[dict[str, Any]]:
    """A post's attachments, in order, from its ``media_attachments`` column."""
    if not raw:
        return []
    return [attachment(ctx, shown) for shown in orjson.loads(raw)]
