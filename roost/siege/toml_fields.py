"""Reading typed fields out of parsed TOML, with errors that name the file, field and line.

tomllib reports line numbers only for syntax errors; for a bad value the line is found by looking
for ``key =`` in the text, and given when that key appears exactly once.
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
        key = where.rsplit(".", 1)[-1].split("[", 1)[0]
        lines = [n for n, line in enumerate(self.text.splitlines(), 1) if _defines(line, key)]
        at = f" (line {lines[0]})" if len(lines) == 1 else ""
        return self.error(f"{self.path}: {where}{at}: {message}")

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
        value = raw.get(key, default)
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
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(_join(where, key), f"a number is required, got {value!r}")
        if not low <= value <= high or math.isnan(value):
            raise self.fail(_join(where, key), f"must be between {low:g} and {high:g}, got {value}")
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
        value = raw.get(key, default)
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


def _defines(line: str, key: str) -> bool:
    return re.match(rf"\s*{re.escape(key)}\s*=", line) is not None
