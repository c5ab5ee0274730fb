"""Reading typed fields out of parsed TOML, with errors that name the file, field and line.

tomllib reports line numbers only for syntax errors; for a bad value the line is found in the text:
the table the field lives in is located by its headers (the nth ``[[phases]]``, then the mth
``[[phases.attacks]]`` after it), and ``key =`` is looked for inside that table. A missing field
is reported at its table's header line.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any


class FieldReader:
    """Typed getters over TOML tables; ``where`` is the dotted path shown in errors."""

    def __init__(self, path: Path, text: str, error: type[ValueError]) -> None:
        self.path = path
        self.text = text
        self.error = error

    def fail(self, where: str, message: str) -> ValueError:
        lines = self.text.splitlines()
        line = _line_of(lines, where) or _only_line(lines, where)
        at = f" (line {line})" if line else ""
        return self.error(f"{self.path}: {where}{at}: {message}")

    def require(self, raw: dict[str, Any], key: str, where: str, default: Any) -> Any:
        """The value, or the default; a required field (no default) that is absent is missing."""
        if key not in raw and default is None:
            raise self.fail(_join(where, key), "missing (this field is required)")
        return raw.get(key, default)

    def paths(self, raw: dict[str, Any], where: str, key: str = "paths") -> tuple[str, ...]:
        paths = raw.get(key, [])
        if not isinstance(paths, list) or not all(
            isinstance(p, str) and p.startswith("/") for p in paths
        ):
            raise self.fail(f"{where}.{key}", "must be a list of paths starting with /")
        return tuple(paths)

    def table(self, raw: Any, where: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(where, f"must be a table, not {type(raw).__name__}")
        return raw

    def no_unknown(self, raw: dict[str, Any], known: set[str], where: str) -> None:
        for key in raw:
            if key not in known:
                place = f"{where}.{key}" if where else key
                raise self.fail(place, f"unknown field; expected one of {', '.join(sorted(known))}")

    def string(self, raw: dict[str, Any], key: str, where: str, default: str | None) -> str:
        value = self.require(raw, key, where, default)
        if not isinstance(value, str) or (not value and default is None):
            raise self.fail(_join(where, key), f"a string is required, got {value!r}")
        return value

    def number(
        self,
        raw: dict[str, Any],
        key: str,
        where: str,
        default: float | None,
        low: float = 0.0,
        high: float = math.inf,
    ) -> float:
        value = self.require(raw, key, where, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(_join(where, key), f"a number is required, got {value!r}")
        if not low <= value <= high or math.isnan(value):
            bounds = f"at least {low:g}" if high == math.inf else f"between {low:g} and {high:g}"
            raise self.fail(_join(where, key), f"must be {bounds}, got {value}")
        return float(value)

    def integer(
        self,
        raw: dict[str, Any],
        key: str,
        where: str,
        default: int | None,
        low: int = 0,
        high: int = 2**62,
    ) -> int:
        value = self.require(raw, key, where, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(_join(where, key), f"a whole number is required, got {value!r}")
        if not low <= value <= high:
            raise self.fail(_join(where, key), f"must be between {low} and {high}, got {value}")
        return value

    def optional_number(self, raw: dict[str, Any], key: str, high: float) -> float | None:
        return None if key not in raw else self.number(raw, key, "", None, low=0.1, high=high)

    def optional_int(self, raw: dict[str, Any], key: str, high: int) -> int | None:
        return None if key not in raw else self.integer(raw, key, "", None, low=1, high=high)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_.\s-]+?)\s*\]\]?\s*(#.*)?$")
STEP = re.compile(r"([^.\[\]]+)(?:\[(\d+)\])?")


def _line_of(lines: list[str], where: str) -> int | None:
    """The line that defines ``where`` (like ``phases[1].attacks[0].rate``), or None.

    Each indexed step is the nth ``[[...]]`` header of that dotted name inside the previous
    step's table; a plain step is a ``[name]`` table or, last, a key. A key not written in its
    table (a missing field) is reported at the table's header.
    """
    start, end, table, header = 0, len(lines), "", None
    for name, index in STEP.findall(where):
        dotted = f"{table}.{name}" if table else name
        found = _header_at(lines, start, end, dotted, int(index or 0), "[[" if index else "[")
        if found is None and not index:  # a key, or an array of tables named as a whole
            own = range(start, _own_end(lines, start, end))
            key = next((n for n in own if _defines(lines[n], name)), None)
            array = _header_at(lines, start, end, dotted, 0, "[[")
            return next((n + 1 for n in (key, array) if n is not None), header)
        if found is None:
            return None
        header, start, end, table = found + 1, found + 1, _section_end(lines, found, dotted), dotted
    return header


def _only_line(lines: list[str], where: str) -> int | None:
    """The line of ``key =`` when that key appears exactly once in the whole file."""
    key = where.rsplit(".", 1)[-1].split("[", 1)[0]
    found = [number for number, line in enumerate(lines, 1) if _defines(line, key)]
    return found[0] if len(found) == 1 else None


def _header_at(
    lines: list[str], start: int, end: int, dotted: str, nth: int, bracket: str
) -> int | None:
    seen = 0
    for number in range(start, end):
        match = HEADER.match(lines[number])
        if match and match.group(1) == bracket and _name(match.group(2)) == dotted:
            if seen == nth:
                return number
            seen += 1
    return None


def _section_end(lines: list[str], header: int, dotted: str) -> int:
    """Where the table opened at ``header`` ends, its sub-tables included."""
    for number in range(header + 1, len(lines)):
        match = HEADER.match(lines[number])
        if match and not _name(match.group(2)).startswith(f"{dotted}."):
            return number
    return len(lines)


def _own_end(lines: list[str], start: int, end: int) -> int:
    """The first header at or after ``start``: a table's own keys come before its sub-tables."""
    for number in range(start, end):
        if HEADER.match(lines[number]):
            return number
    return end


def _name(header: str) -> str:
    return ".".join(part.strip() for part in header.split("."))


def _defines(line: str, key: str) -> bool:
    return re.match(rf"\s*{re.escape(key)}\s*=", line) is not None
