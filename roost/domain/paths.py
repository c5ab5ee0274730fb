"""Where a redirect may send a browser back to: a path on this site, nothing else."""

from __future__ import annotations

import re

MAX_LENGTH = 2000
# Browsers drop tabs and newlines from a Location and read a backslash as a slash, so
# "/\t/evil.example" is "//evil.example", another site: no control character, space or
# backslash at all, and never two leading slashes.
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def local_path(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path on this site, else ``default``."""
    value = value or ""
    if (
        not value.startswith("/")
        or value.startswith("//")
        or len(value) > MAX_LENGTH
        or _UNSAFE.search(value)
    ):
        return default
    return value
