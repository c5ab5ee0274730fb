"""Parameters declared once: each endpoint names what it takes, typed, and that one declaration
both reads the request (``endpoint`` hands the handler ``call.args``) and describes it in
``/openapi.json``. What a client sends wrong is a 422 naming the field, as Mastodon answers.

    @endpoint("write:statuses", write=True, body={"status": Text(), "sensitive": Flag()})
    async def create(call): ... call.args["status"] ...

A query's paging (``max_id``, ``since_id``, ``min_id``, ``limit``) is one ``Paging`` that
becomes a ``Page``; it is read from the query string and the body alike, as clients send both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from roost.api.http import ApiError, boolean, offset_of, optional_id, page, text
from roost.bodies import SentFile
from roost.domain.scopes import parse_scopes
from roost.services.timelines import MAX_LIMIT

ID_SCHEMA = {"type": "string", "pattern": "^[0-9]+$"}


class Param:
    """One parameter: how to read it from a request, and its JSON Schema."""

    required = False

    @property
    def schema(self) -> dict[str, Any]:
        return {}

    def read(self, name: str, params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def names(self, name: str) -> dict[str, dict]:
        """The parameters this declares, as the OpenAPI text lists them."""
        return {name: self.schema}


@dataclass(frozen=True)
class File(Param):
    """A file part of a multipart form (``endpoint(upload=...)``): its bytes, name and type;
    None when absent. Text where a file belongs is a 422."""

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "binary"}

    def read(self, name: str, params: dict[str, Any]) -> SentFile | None:
        value = params.get(name)
        if value in (None, ""):
            return None
        if not isinstance(value, SentFile):
            raise ApiError(422, f"Validation failed: {name} must be a file (multipart/form-data)")
        return value


@dataclass(frozen=True)
class Text(Param):
    """A string. ``listed``: the values the OpenAPI text names, where the domain's own rule
    checks them (and words its refusal, as for a post's visibility)."""

    required: bool = False
    default: str | None = None
    listed: tuple[str, ...] = ()

    @property
    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.listed)} if self.listed else {"type": "string"}

    def read(self, name: str, params: dict[str, Any]) -> str | None:
        return text(params.get(name), name, self.default)


@dataclass(frozen=True)
class Flag(Param):
    """true/false, 1/0, on/off, yes/no; ``default`` when absent (None: "leave as it is")."""

    default: bool | None = False

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}

    def read(self, name: str, params: dict[str, Any]) -> bool | None:
        return boolean(params.get(name), self.default)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Id(Param):
    required: bool = False

    @property
    def schema(self) -> dict[str, Any]:
        return dict(ID_SCHEMA)

    def read(self, name: str, params: dict[str, Any]) -> int | None:
        return optional_id(params.get(name), name)


@dataclass(frozen=True)
class Choice(Param):
    """One of a few words; anything else is a 422 that lists them."""

    values: tuple[str, ...] = ()

    @property
    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.values)}

    def read(self, name: str, params: dict[str, Any]) -> str | None:
        value = text(params.get(name), name)
        if value in (None, ""):
            return None
        if value not in self.values:
            raise ApiError(422, f"Validation failed: {name} must be {_either(self.values)}")
        return value


@dataclass(frozen=True)
class Words(Param):
    """A list of words (``types[]=mention&types[]=follow``, or one word); None when absent."""

    listed: tuple[str, ...] = ()

    @property
    def schema(self) -> dict[str, Any]:
        items = {"enum": list(self.listed)} if self.listed else {"type": "string"}
        return {"type": "array", "items": items}

    def names(self, name: str) -> dict[str, dict]:
        return {f"{name}[]": self.schema}

    def read(self, name: str, params: dict[str, Any]) -> list[str] | None:
        value = params.get(name)
        if value in (None, ""):
            return None
        items = value if isinstance(value, list) else [value]
        if any(isinstance(v, list | dict) for v in items):
            raise ApiError(422, f"Validation failed: {name} must be a list of words")
        return [str(v) for v in items]


@dataclass(frozen=True)
class Spaced(Param):
    """Several words in one string (space-separated, as OAuth writes redirect URIs and scopes)
    or as a list; the service judges each (a list of lists is refused there, by name)."""

    required: bool = False

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "string"}

    def read(self, name: str, params: dict[str, Any]) -> list | None:
        value = params.get(name)
        if value in (None, ""):
            return None
        return value if isinstance(value, list) else str(value).split()


@dataclass(frozen=True)
class Scopes(Param):
    """OAuth scopes (``read write:statuses``), checked against the known ones; ``default`` when
    absent, as Mastodon grants ``read``."""

    default: str = "read"

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "string"}

    def read(self, name: str, params: dict[str, Any]) -> list[str]:
        return parse_scopes(params.get(name), self.default)


@dataclass(frozen=True)
class Ids(Param):
    """A list of ids (``id[]=1&id[]=2``), at most ``most``; an invalid one is a 422.
    ``optional``: None when absent (an edit that keeps what it does not name), else []."""

    most: int = 80
    optional: bool = False

    def names(self, name: str) -> dict[str, dict]:
        return {f"{name}[]": {"type": "array", "items": dict(ID_SCHEMA)}}

    def read(self, name: str, params: dict[str, Any]) -> list[int] | None:
        if self.optional and name not in params:
            return None
        raw = params.get(name) or []
        raw = raw if isinstance(raw, list) else [raw]
        return [i for i in (optional_id(r, name) for r in raw[: self.most]) if i is not None]


@dataclass(frozen=True)
class Offset(Param):
    """How many results to skip (search pages), 0 to ``most``."""

    most: int = 10_000

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": 0}

    def read(self, name: str, params: dict[str, Any]) -> int:
        return offset_of(params) if name == "offset" else 0


@dataclass(frozen=True)
class Limit(Param):
    """How many results, ``default`` when absent, at most ``most`` (larger is cut to it, as
    Mastodon does); a count that is not a number is a 422."""

    default: int = 20
    most: int = 40

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1, "maximum": self.most}

    def read(self, name: str, params: dict[str, Any]) -> int:
        raw = params.get(name)
        if raw in (None, ""):
            return self.default
        try:
            return max(1, min(int(raw), self.most))
        except (TypeError, ValueError, OverflowError):  # 1e400 arrives as inf
            raise ApiError(422, f"Validation failed: {name} must be a number") from None


@dataclass(frozen=True)
class Paging(Param):
    """``max_id``, ``since_id``, ``min_id`` and ``limit`` (1 to ``most``), read as a ``Page``."""

    most: int = MAX_LIMIT

    def names(self, name: str) -> dict[str, dict]:
        limit = {"type": "integer", "minimum": 1, "maximum": self.most}
        return {"max_id": ID_SCHEMA, "since_id": ID_SCHEMA, "min_id": ID_SCHEMA, "limit": limit}

    def read(self, name: str, params: dict[str, Any]) -> Any:
        return page(params, max_limit=self.most)


@dataclass(frozen=True)
class Records(Param):
    """A list of small objects, as Rails' nested attributes take them: JSON
    ``[{"keyword": "x"}]`` or ``{"0": {...}}``, or a form's ``name[][keyword]=x`` (the n-th
    value of each field makes the n-th object: send every field for every object) or
    ``name[0][keyword]=x``. Each object's fields are read by their own declarations; at most
    ``most`` objects."""

    fields: Mapping[str, Param]
    most: int = 100

    @property
    def schema(self) -> dict[str, Any]:
        properties = {field: param.schema for field, param in self.fields.items()}
        return {"type": "array", "items": {"type": "object", "properties": properties}}

    def read(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        raw = params.get(name)
        items = _form_records(name, params) if raw is None else raw
        if isinstance(items, dict):
            items = [items[key] for key in sorted(items, key=_index)]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ApiError(422, f"Validation failed: {name} must be a list of objects")
        if len(items) > self.most:
            raise ApiError(422, f"Validation failed: at most {self.most} {name}")
        return [read_all(self.fields, item) for item in items]


@dataclass(frozen=True)
class Whole(Param):
    """A whole number (JSON's ``300`` or a form's ``"300"``); None when absent."""

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "integer"}

    def read(self, name: str, params: dict[str, Any]) -> int | None:
        raw = params.get(name)
        if raw in (None, ""):
            return None
        digits = str(raw)
        if isinstance(raw, bool) or not isinstance(raw, int | str) or not _ascii_digits(digits):
            raise ApiError(422, f"Validation failed: {name} must be a whole number")
        return int(digits[:12])  # beyond any limit, and no 4,300-digit conversion


@dataclass(frozen=True)
class Wholes(Param):
    """A list of whole numbers (``choices[]=0&choices[]=2``, or JSON's ``[0, 2]``), at most
    ``most``; anything else is a 422."""

    most: int = 40

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "integer", "minimum": 0}}

    def read(self, name: str, params: dict[str, Any]) -> list[int]:
        raw = params.get(name)
        raw = [] if raw in (None, "") else raw if isinstance(raw, list) else [raw]
        if len(raw) > self.most:
            raise ApiError(422, f"Validation failed: at most {self.most} {name}")
        return [Whole().read(name, {name: item}) or 0 for item in raw]


@dataclass(frozen=True)
class Nested(Param):
    """One small object, as Rails takes it: JSON ``{"poll": {"expires_in": 300}}`` or a form's
    ``poll[expires_in]=300`` and ``poll[options][]=a``; each field read by its own declaration;
    None when absent."""

    fields: Mapping[str, Param]

    @property
    def schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for field, param in self.fields.items():
            properties.update({key.removesuffix("[]"): s for key, s in param.names(field).items()})
        return {"type": "object", "properties": properties}

    def read(self, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
        raw = params.get(name)
        if raw is None:
            raw = _form_object(name, params)
        if raw in (None, ""):
            return None
        if not isinstance(raw, dict):
            raise ApiError(422, f"Validation failed: {name} must be an object")
        return read_all(self.fields, raw)


def _form_object(name: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """An object from a form's ``name[field]`` keys (``[]`` already taken off by the reader)."""
    prefix = name + "["
    found = {
        key[len(prefix) : -1]: value
        for key, value in params.items()
        if key.startswith(prefix) and key.endswith("]") and "[" not in key[len(prefix) : -1]
    }
    return found or None


_NESTED = re.compile(r"^(\w+)\[(\d*)\]\[(\w+)\]$")


def _form_records(name: str, params: dict[str, Any]) -> dict[str, dict] | list[dict]:
    """Objects from a form's ``name[][field]`` / ``name[n][field]`` keys."""
    by_index: dict[str, dict] = {}
    by_position: list[dict] = []
    for key, value in params.items():
        found = _NESTED.match(key)
        if found is None or found[1] != name:
            continue
        index, field = found[2], found[3]
        if index:
            by_index.setdefault(index, {})[field] = value
            continue
        for n, one in enumerate(value if isinstance(value, list) else [value]):
            if n == len(by_position):
                by_position.append({})
            by_position[n][field] = one
    return by_index or by_position


def _index(key: str) -> int:
    if not _ascii_digits(str(key)) or len(str(key)) > 6:
        raise ApiError(422, "Validation failed: nested attributes are indexed by numbers")
    return int(key)


def _ascii_digits(text: str) -> bool:
    """0-9 only: ``str.isdigit`` also takes "²", which ``int`` refuses."""
    return text.isascii() and text.isdigit()


@dataclass(frozen=True)
class PagingOrAll(Paging):
    """``Paging`` where ``limit=0`` asks for everything, up to ``whole`` (Mastodon's list
    members); ``default`` when no limit is given."""

    default: int = 40
    whole: int = 1000

    def names(self, name: str) -> dict[str, dict]:
        found = super().names(name)
        found["limit"] = {**found["limit"], "minimum": 0}
        return found

    def read(self, name: str, params: dict[str, Any]) -> Any:
        limit = params.get("limit")
        if limit in (None, ""):
            return page({**params, "limit": self.default}, max_limit=self.most)
        if isinstance(limit, str | int) and str(limit).strip() == "0":
            return replace(page({**params, "limit": 1}), limit=self.whole)
        return page(params, max_limit=self.most)


def _either(values: tuple[str, ...]) -> str:
    return ", ".join(values[:-1]) + " or " + values[-1] if len(values) > 1 else values[0]


Declared = Mapping[str, Param]


def read_all(declared: Declared, params: dict[str, Any]) -> dict[str, Any]:
    """Every declared parameter, typed (a wrong type is a 422 naming it). ``required`` only
    marks the OpenAPI text: whether a value is acceptable is the domain's rule, which words
    its own refusal (a post's empty text, a taken username)."""
    return {name: param.read(name, params) for name, param in declared.items()}


def schema_of(declared: Declared) -> dict[str, Any]:
    """A JSON Schema object for a declared body (the OpenAPI request body)."""
    properties: dict[str, Any] = {}
    for name, param in declared.items():
        properties.update(param.names(name))
    required = [name for name, param in declared.items() if param.required]
    return {"type": "object", "required": required, "properties": properties}
