"""HTTP helpers for the Mastodon API: bodies, booleans, ids, cursors, Link headers, errors."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from roost.bodies import (
    MAX_BODY,
    BadBody,
    BadJson,
    SentFile,
    Upload,
    client_json,
    read_form,
    read_limited,
    sent_files,
)
from roost.domain.ids import parse_id
from roost.services.timelines import DEFAULT_LIMIT, MAX_LIMIT, Page


class ApiError(Exception):
    """An error answered as Mastodon does: ``{"error": ..., "error_description": ...}``."""

    def __init__(self, status: int, error: str, description: str | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description or error


def error_response(status: int, error: str, description: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description or error}, status_code=status
    )


class Json(Response):
    """Compact JSON with no ASCII escaping, as clients expect; orjson, because serialising a
    page took an eighth of an uncached read (bench/profile_reads.py)."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):  # serialised already (roost.present.entities)
            return content
        return orjson.dumps(content)  # compact UTF-8 as before, at a tenth of json's cost


async def body(request: Request, upload: Upload | None = None) -> dict[str, Any]:
    """The request's parameters from JSON, form or query string, merged (JSON/form win); with
    ``upload``, a multipart form's files too (as ``SentFile``), within its limits."""
    params = _query(request.scope["query_string"])
    if request.method in ("GET", "HEAD", "DELETE") and not _declares_body(request.scope):
        return params
    try:
        raw = await read_limited(request, upload.limit(request) if upload else MAX_BODY)
        if not raw.strip():
            return params
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/json":
            data = client_json(raw)
            if not isinstance(data, dict):
                raise ApiError(422, "The request body must be a JSON object")
            params.update(data)
            return params
        if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            raise ApiError(415, "Send JSON or a form (application/json or form-encoded)")
        form = await read_form(request, upload=upload)
        files = await sent_files(form) if upload else {}
    except BadJson as exc:
        raise ApiError(400, f"The request body is {exc.message}") from None
    except BadBody as exc:
        raise ApiError(exc.status, exc.message) from None
    for key in form:
        if key not in files:
            params[_key(key)] = _values(form.getlist(key), key)
    params.update(files)
    return params


def _query(raw: bytes) -> dict[str, Any]:
    """The query string's parameters, read as Starlette's ``QueryParams`` reads them (names in
    order of first appearance), without building that object for every request."""
    if not raw:
        return {}
    grouped: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        grouped.setdefault(key, []).append(value)
    return {_key(key): _values(values, key) for key, values in grouped.items()}


def _declares_body(scope: Any) -> bool:
    """Whether the request says it has a body (a non-empty ``Content-Length``)."""
    return any(name == b"content-length" and value for name, value in scope["headers"])


def _key(key: str) -> str:
    return key[:-2] if key.endswith("[]") else key


def _values(values: list, key: str) -> Any:
    return list(values) if key.endswith("[]") or len(values) > 1 else values[0]


def boolean(value: Any, default: bool = False) -> bool:
    """Mastodon clients send true/false, 1/0, on/off: accept them all."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "on", "yes"):
        return True
    if text in ("0", "false", "off", "no"):
        return False
    raise ApiError(422, f"Validation failed: {value!r} is not a boolean")


def text(value: Any, name: str, default: str | None = None) -> str | None:
    if value is None:
        return default
    if isinstance(value, list | dict | SentFile):
        raise ApiError(422, f"Validation failed: {name} must be a string")
    return str(value)


def path_id(request: Request, name: str = "id") -> int:
    value = parse_id(request.path_params.get(name))
    if value is None:
        raise ApiError(404, "Record not found")
    return value


def optional_id(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    parsed = parse_id(value if isinstance(value, str | int) else None)
    if parsed is None:
        raise ApiError(422, f"Validation failed: {name} is not a valid id")
    return parsed


def page(params: dict[str, Any], max_limit: int = MAX_LIMIT) -> Page:
    limit_raw = params.get("limit")
    try:
        limit = DEFAULT_LIMIT if limit_raw in (None, "") else int(limit_raw)
    except (TypeError, ValueError, OverflowError):  # 1e400 arrives as inf
        raise ApiError(422, "Validation failed: limit must be a number") from None
    return Page(
        max_id=optional_id(params.get("max_id"), "max_id"),
        since_id=optional_id(params.get("since_id"), "since_id"),
        min_id=optional_id(params.get("min_id"), "min_id"),
        limit=max(1, min(limit, max_limit)),
    )


def offset_of(params: dict[str, Any]) -> int:
    try:
        return max(0, min(int(params.get("offset") or 0), 10_000))
    except (TypeError, ValueError, OverflowError):
        raise ApiError(422, "Validation failed: offset must be a number") from None


def link_header(request: Request, ids: list[int]) -> dict:
    """Link with rel="next" first (toot's regex reads the first link), then rel="prev"."""
    if not ids:
        return {}
    base = str(request.url).partition("?")[0]  # the URL without its query, as asked
    kept = _kept_query(request.scope["query_string"], request)
    return {
        "Link": f'<{base}?{kept}max_id={ids[-1]}>; rel="next", '
        f'<{base}?{kept}min_id={ids[0]}>; rel="prev"'
    }


_CURSORS = ("max_id", "min_id", "since_id")
_PLAIN_QUERY = re.compile(rb"[\w.~-]+=[\w.~-]*(?:&[\w.~-]+=[\w.~-]*)*", re.ASCII)


def _kept_query(raw: bytes, request: Request) -> str:
    """The query without its cursors, as ``urlencode`` writes it, with a trailing ``&`` unless
    empty. A plain query (no escapes, each name once) is that already: it is split, not parsed
    and encoded again, which cost a twentieth of an uncached page."""
    if not raw:
        return ""
    if _PLAIN_QUERY.fullmatch(raw):
        pairs = [pair for pair in raw.decode().split("&") if pair.split("=")[0] not in _CURSORS]
        if len({pair.split("=")[0] for pair in pairs}) == len(pairs):
            return "".join(pair + "&" for pair in pairs)
    keep = {k: v for k, v in request.query_params.multi_items() if k not in _CURSORS}
    return urlencode(list(keep.items())) + "&" if keep else ""
