"""Request bodies, read one way by every face (API, web pages, consent page, streams).

A client chooses a body's size, shape and nesting, so each is bounded here before anything
else looks at it: ``MAX_BODY`` bytes (413), ``MAX_JSON_DEPTH`` levels of JSON (400: 5,000 open
brackets raised RecursionError inside ``json`` and gave a 500, issue 12), a number of form
fields and no files (400). The faces turn ``BadBody`` into their own answers (Mastodon's
``{"error": ...}``, an HTML page).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

MAX_BODY = 64 * 1024  # a post is 500 characters; nothing Roost takes needs more
MAX_JSON_DEPTH = 32  # Mastodon's entities nest a few levels; a client never needs more
MAX_FORM_FIELDS = 200


@dataclass(frozen=True)
class Upload:
    """What a face that takes files allows: how many, and how large the whole body may be
    (0: the shield's upload limit, ``ROOST_SHIELD_MAX_UPLOAD_BYTES``)."""

    files: int
    most: int = 0

    def limit(self, request: Request) -> int:
        return self.most or request.app.state.ctx.settings.shield.max_upload_bytes


@dataclass(frozen=True)
class SentFile:
    """A file part of a form, read whole (its body was bounded before it was parsed)."""

    data: bytes
    filename: str
    content_type: str


async def sent_files(form: FormData) -> dict[str, SentFile]:
    """The form's file parts by field name (the first of each name)."""
    found: dict[str, SentFile] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name not in found:
                data = await value.read()
                found[name] = SentFile(data, value.filename or "", value.content_type or "")
            await value.close()
    return found


class BadBody(ValueError):
    """A body that is too large (413), malformed or nested too deeply (400)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BadJson(BadBody):
    def __init__(self, problem: str) -> None:
        super().__init__(400, problem)


def client_json(raw: str | bytes) -> Any:
    """Every JSON a client sends (bodies, streaming messages) is read here, depth bounded."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # ValueError: malformed, or an integer of 4,300+ digits
        raise BadJson("not valid JSON, nested too deeply, or a number too long") from None
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadJson(f"nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return data


async def read_limited(request: Request, most: int = MAX_BODY) -> bytes:
    """The whole body, refused (413) as soon as it passes ``most`` bytes, declared or not."""
    declared = request.headers.get("content-length")
    if declared and (not declared.isdigit() or int(declared) > most):
        raise BadBody(413, "The request body is too large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > most:
            raise BadBody(413, "The request body is too large")
        chunks.append(chunk)
    raw = b"".join(chunks)
    request._body = raw  # so request.form() reads these bytes again, not the spent stream
    return raw


def _closed_multipart(content_type: str, raw: bytes) -> bool:
    """A multipart body ends with its closing delimiter (RFC 2046), else it was cut short:
    refused before parsing, because Starlette's parser leaves the cut part's file open."""
    kind, _, rest = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        return True
    boundary = ""
    for param in rest.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary":
            boundary = value.strip().strip('"')
    return bool(boundary) and raw.rstrip().endswith(f"--{boundary}--".encode("latin-1"))


async def read_form(
    request: Request, max_fields: int = MAX_FORM_FIELDS, upload: Upload | None = None
) -> FormData:
    """A form body (urlencoded, or multipart without files unless ``upload`` says which and
    how large), bounded like every body."""
    raw = await read_limited(request, upload.limit(request) if upload else MAX_BODY)
    if not _closed_multipart(request.headers.get("content-type", ""), raw):
        raise BadBody(400, "The form body could not be read")
    try:
        return await request.form(max_files=upload.files if upload else 0, max_fields=max_fields)
    except Exception:  # a malformed multipart body is the client's fault: 400, never 500
        raise BadBody(400, "The form body could not be read") from None
