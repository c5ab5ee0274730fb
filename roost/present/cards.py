"""Mastodon's PreviewCard (a post's ``card``) and its trending form (``/api/v1/trends/links``).

The page's picture is not shown yet: ``image_url`` is where the page said it is, somewhere on
the web, and a client must never be sent to fetch it from there (it would tell that site who
reads the post); a later step stores it through the media storage and fills ``image``.
"""

from __future__ import annotations

from typing import Any

Row = Any  # a preview_cards row, read by column name


def preview_card(row: Row) -> dict:
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
        "width": 0,
        "height": 0,
        "image": None,
        "image_description": "",
        "embed_url": "",
        "blurhash": None,
        "published_at": None,
        "authors": [],
    }


def trend_link(row: Row, history: list[dict]) -> dict:
    """A trending link: its card with seven days of ``history``, as a tag's."""
    return {**preview_card(row), "history": history}
