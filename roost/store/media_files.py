"""Where media files live: one small interface, a local directory behind it (S3 in media_s3.py),
and how Roost itself serves that directory at ``/media/``."""

from __future__ import annotations

import mimetypes
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Protocol

import anyio.to_thread
from sqlalchemy.engine import make_url
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from roost.config import Settings

# Segments of letters, digits, '.', '_' and '-', none starting with '.': no '..', no hidden or
# temporary files, no absolute paths, backslashes or NUL, whatever the caller was given.
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}(?:/[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}){0,7}")
_WORD = re.compile(r"[a-z0-9]{1,16}")
PREFIX = "/media/"
# A key never changes its bytes (a new picture is a new key), so anyone may keep a copy forever.
CACHE_CONTROL = "public, max-age=31536000, immutable"
# An image URL opened on its own can never run script, whatever its bytes claim to be.
CSP = "default-src 'none'; sandbox"
TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "mp4": "video/mp4",
    "webm": "video/webm",
}


class MediaFiles(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...
    async def get(self, key: str) -> bytes: ...
    async def delete(self, *keys: str) -> None: ...
    def url(self, key: str) -> str: ...
    async def close(self) -> None: ...


def new_key(kind: str, ext: str) -> str:
    """An unguessable key, e.g. ``original/3f/3fa9....jpg``; 256 folders per kind."""
    if not _WORD.fullmatch(kind) or not _WORD.fullmatch(ext):
        raise ValueError(f"kind and extension are short lowercase words: {kind!r}, {ext!r}")
    token = secrets.token_hex(16)
    return f"{kind}/{token[:2]}/{token}.{ext}"


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a media key: {key!r}")
    return key


def content_type_of(key: str) -> str:
    ext = key.rpartition(".")[2].lower()
    return TYPES.get(ext) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def public_base(settings: Settings) -> str:
    return (settings.media.url or f"{settings.base_url}/media").rstrip("/")


def media_dir(settings: Settings) -> Path:
    """The local directory: a relative one lies beside the SQLite database (as the instance's
    secret and the edge's files do), so that each test's and each data folder's media stay
    with its data; with PostgreSQL, in the working directory."""
    folder = Path(settings.media.dir)
    if folder.is_absolute():
        return folder
    url = make_url(settings.database_url)
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / folder
    return folder.resolve()


def open_media_files(settings: Settings) -> MediaFiles:
    if settings.media.backend == "s3":
        from roost.store.media_s3 import S3MediaFiles

        return S3MediaFiles(settings.media, public_base_url=settings.media.url)
    return LocalMediaFiles(media_dir(settings), public_base(settings))


class LocalMediaFiles:
    """Files under one directory (made on first use); blocking I/O runs in worker threads."""

    def __init__(self, directory: Path, base_url: str) -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/")

    def path(self, key: str) -> Path:
        return self.directory / check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await anyio.to_thread.run_sync(_write_durably, self.path(key), data)

    async def get(self, key: str) -> bytes:
        return await anyio.to_thread.run_sync(_read, self.path(key))

    async def delete(self, *keys: str) -> None:
        paths = [self.path(key) for key in keys]  # all checked before any is removed
        await anyio.to_thread.run_sync(_unlink_all, paths)

    def url(self, key: str) -> str:
        return f"{self.base_url}/{check_key(key)}"

    async def close(self) -> None:
        return None


def _write_durably(path: Path, data: bytes) -> None:
    """Whole or not at all, and on disk when this returns: a temporary file in the same folder,
    fsync, rename over, fsync the folder (the rename itself is durable only then)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # 0644 less the umask, like any file: a front web server may serve this folder itself.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise FileNotFoundError(str(path)) from None


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


class ServeMedia:
    """Pure ASGI middleware: ``/media/<key>`` from the local directory, everything else on.

    It sits outside the session and CORS layers on purpose: a response cached as public must not
    carry anyone's refreshed session cookie, and the answer is the same whoever asks."""

    def __init__(self, app: ASGIApp, directory: Path) -> None:
        self.app = app
        self.directory = directory
        self.files = StaticFiles(directory=directory, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        response = await self.respond(scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Access-Control-Allow-Origin"] = "*"
        await response(scope, receive, send)

    async def respond(self, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return _refusal(405, "Method not allowed", {"Allow": "GET, HEAD"})
        key = scope["path"][len(PREFIX) :]
        if not _KEY.fullmatch(key):
            return _refusal(404, "Not found")
        full, found = await anyio.to_thread.run_sync(self.files.lookup_path, key)
        if found is None or not stat.S_ISREG(found.st_mode):
            return _refusal(404, "Not found")
        response = FileResponse(full, stat_result=found, media_type=content_type_of(key))
        response.headers["Cache-Control"] = CACHE_CONTROL
        if self.files.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response


def _refusal(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(text, status, {"Cache-Control": "no-store", **(headers or {})})


def serve_local_media(settings: Settings) -> list[Middleware]:
    """The middleware that serves ``/media/`` when files live here (none with S3): for
    ``Starlette(middleware=...)``. Served whenever the backend is local, also when ``media.url``
    names a CDN, since the CDN's origin is this instance."""
    if settings.media.backend != "local":
        return []
    return [Middleware(ServeMedia, directory=media_dir(settings))]
