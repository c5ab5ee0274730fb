"""Reading untrusted JSON into typed values, or a ``Problem`` that becomes a 4xx, never a 500."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from roost.status.model import COMPONENT_STATUSES, parse_iso

# Characters XML 1.0 forbids (https://www.w3.org/TR/xml/#charsets): C0 controls other than tab,
# newline and carriage return, lone surrogates, U+FFFE and U+FFFF. One of them in a name or body
# would make the Atom feed unparseable for every reader, so texts carrying them are refused.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# Times outside these years are typos (or attempts to overflow date arithmetic); Statuspage's
# timestamps also need four-digit years.
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)


class Problem(Exception):
    """A client error with its HTTP status and a message a person can act on."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def obj(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Problem(422, "the body must be a JSON object")
    return data


def text(data: dict, key: str, limit: int, required: bool = True, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise Problem(422, f"{key!r} is required")
        return default
    if not isinstance(value, str):
        raise Problem(422, f"{key!r} must be a string")
    value = value.strip()
    if required and not value:
        raise Problem(422, f"{key!r} must not be empty")
    if len(value) > limit:
        raise Problem(422, f"{key!r} is {len(value)} characters; at most {limit} are allowed")
    bad = _NOT_XML.search(value)
    if bad:
        raise Problem(
            422,
            f"{key!r} contains U+{ord(bad.group()):04X} at position {bad.start()}, a character"
            " XML 1.0 forbids (the Atom feed could not carry it); remove it",
        )
    return value


def choice(data: dict, key: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    value = data.get(key, default)
    if value is None:
        raise Problem(422, f"{key!r} is required; one of {', '.join(allowed)}")
    if value not in allowed:
        raise Problem(422, f"{key!r} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def when(data: dict, key: str, required: bool = False) -> datetime | None:
    value = data.get(key)
    if value is None:
        if required:
            raise Problem(422, f"{key!r} is required (ISO 8601 time)")
        return None
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError(value)
        at = parse_iso(value)
    except (ValueError, OverflowError):  # OverflowError: a zone offset past year 1 or 9999
        raise Problem(
            422, f"{key!r} must be an ISO 8601 time such as 2026-11-28T11:20:03Z"
        ) from None
    if not EARLIEST <= at < LATEST:
        raise Problem(422, f"{key!r} must be a time between the years 1970 and 2999")
    return at


def components(data: dict, known: set[str], key: str = "components") -> dict[str, str]:
    """``{"web": "major_outage", ...}``: known components, valid statuses."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise Problem(422, f"{key!r} must be an object of component id -> status")
    for cid, status in value.items():
        if cid not in known:
            raise Problem(422, f"unknown component {cid!r}; known: {', '.join(sorted(known))}")
        if status not in COMPONENT_STATUSES:
            raise Problem(422, f"component status must be one of {', '.join(COMPONENT_STATUSES)}")
    return dict(value)


def strings(data: dict, key: str, limit: int = 20, length: int = 64) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or len(value) > limit:
        raise Problem(422, f"{key!r} must be a list of at most {limit} strings")
    if not all(isinstance(v, str) and 0 < len(v) <= length for v in value):
        raise Problem(422, f"{key!r} items must be strings of 1 to {length} characters")
    return tuple(value)
