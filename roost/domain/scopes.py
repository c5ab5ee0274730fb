"""OAuth scopes as Mastodon names them: which exist, how they are written, which covers which."""

from __future__ import annotations

from roost.domain.errors import OAuthError

TOP_SCOPES = ("read", "write", "follow", "push", "admin:read", "admin:write")
# `follow` is Mastodon's old umbrella for relationship scopes.
FOLLOW_COVERS = {
    "read:follows",
    "write:follows",
    "read:blocks",
    "write:blocks",
    "read:mutes",
    "write:mutes",
}
GRANULAR = {
    "read": [
        "accounts",
        "blocks",
        "bookmarks",
        "favourites",
        "filters",
        "follows",
        "lists",
        "mutes",
        "notifications",
        "search",
        "statuses",
    ],
    "write": [
        "accounts",
        "blocks",
        "bookmarks",
        "conversations",
        "favourites",
        "filters",
        "follows",
        "lists",
        "media",
        "mutes",
        "notifications",
        "reports",
        "statuses",
    ],
}
KNOWN_SCOPES = set(TOP_SCOPES) | {
    f"{top}:{part}" for top, parts in GRANULAR.items() for part in parts
}


def parse_scopes(raw: str | list | None, default: str = "read") -> list[str]:
    if isinstance(raw, list):
        raw = " ".join(str(r) for r in raw)
    if raw is not None and not isinstance(raw, str):
        raise OAuthError("invalid_scope", "Scopes are a string of space-separated names")
    scopes = [s for s in (raw or default).replace("+", " ").replace(",", " ").split() if s]
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        raise OAuthError("invalid_scope", f"Unknown scope: {unknown[0]}")
    return list(dict.fromkeys(scopes))


def covers(granted: list[str] | set[str], needed: str) -> bool:
    """Whether granted scopes allow ``needed`` (e.g. ``read`` allows ``read:statuses``)."""
    if needed in granted:
        return True
    top = needed.split(":", 1)[0]
    if top in granted and ":" in needed:
        return True
    return "follow" in granted and needed in FOLLOW_COVERS
