"""Mastodon's PreviewCard (a post's ``card``) and its trending form (``/api/v1/trends/links``).

The page's picture is shown from Roost's own media files (``image_key``), never from where the
page said it is (``image_url``): a client sent there would tell that site who reads the post.
"""

from __future__ import annotations

from typing import Any

Row = Any  # a preview_cards row, read by column name


def preview_card(row: Row, files: Any) -> dict:
    """``files``: the media files (``roost.store.media_files``), for the picture's URL."""
    image = row["image_key"]
    return {
        "url": row["url"],
        "title": row["title"],
        "description": row["description"],
        "language": row["language"],
        "type": "link",
        "author_name": row["author_name"],
        "author_url": row["author_url"],
        "provider_name": row["provider_name"],
        "provider_url": row["provider_url"],
        "html": "",
        "width": row["width"] if image else 0,
        "height": row["height"] if image else 0,
        "image": files.url(image) if image else None,
        "image_description": "",
        "embed_url": "",
        "blurhash": row["blurhash"] if image else None,
        "published_at": None,
        "authors": [],
    }


def trend_link(row: Row, history: list[dict], files: Any) -> dict:
    """A trending link: its card with seven days of ``history``, as a tag's."""
    return {**preview_card(row, files), "history": history}
