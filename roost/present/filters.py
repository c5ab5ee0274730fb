"""Mastodon's Filter, FilterKeyword and FilterStatus entities, and version 1's Filter (one per
keyword), from ``roost.services.filters``."""

from __future__ import annotations

from roost.present.entities import iso
from roost.services.filters import Filter, FilteredStatus, Keyword, V1Filter


def filter_v2(found: Filter) -> dict:
    return {
        "id": str(found.id),
        "title": found.title,
        "context": found.context,
        "expires_at": iso(found.expires_at),
        "filter_action": found.action,
        "keywords": [keyword(k) for k in found.keywords],
        "statuses": [status(s) for s in found.statuses],
    }


def keyword(found: Keyword) -> dict:
    return {"id": str(found.id), "keyword": found.keyword, "whole_word": found.whole_word}


def status(found: FilteredStatus) -> dict:
    return {"id": str(found.id), "status_id": str(found.status_id)}


def filter_v1(found: V1Filter) -> dict:
    return {
        "id": str(found.keyword.id),
        "phrase": found.keyword.keyword,
        "context": found.parent.context,
        "expires_at": iso(found.parent.expires_at),
        "irreversible": found.parent.action == "hide",
        "whole_word": found.keyword.whole_word,
    }
