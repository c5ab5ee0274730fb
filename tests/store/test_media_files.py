"""Media files: one contract for both backends (a local directory, a real S3-compatible server),
the local backend's own promises, and how Roost serves the local directory at ``/media/``."""

from __future__ import annotations

import asyncio
import os
import re
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from roost.app import create_site
from roost.config import MediaSettings, Settings
from roost.store.media_files import (
    LocalMediaFiles,
    MediaFiles,
    media_dir,
    new_key,
    open_media_files,
)
from roost.store.media_s3 import S3MediaFiles
from tests.support.settings import make_settings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
BAD_KEYS = [
    "",
    "../roost.db",
    "original/../../roost.db",
    "/etc/passwd",
    "original\\ab\\x.png",
    "original/ab/x\x00.png",
    "original//x.png",
    "original/./x.png",
    ".hidden",
    "original/ab/.x.png.1234.tmp",
    "original/ab/",
    "C:/x.png",
]


def _settings(tmp_path: Path, **media: object) -> Settings:
    return make_settings(f"sqlite:///{tmp_path / 'roost.db'}", media=MediaSettings(**media))  # type: ignore[arg-type]


@pytest.fixture(params=["local", "s3"])
async def files(request, tmp_path: Path) -> AsyncIterator[MediaFiles]:
    if request.param == "local":
        store = open_media_files(_settings(tmp_path))
    else:
        settings = make_settings(f"sqlite:///{tmp_path / 'roost.db'}")
        store = open_media_files(settings.replace(media=request.getfixturevalue("s3_media")))
    yield store
    await store.close()


# --- The contract, on both backends ------------------------------------------------------------


async def test_what_is_put_is_got_back_and_can_be_replaced(files: MediaFiles) -> None:
    key = new_key("original", "png")
    await files.put(key, PNG, "image/png")
    assert await files.get(key) == PNG
    await files.put(key, b"second", "image/png")
    assert await files.get(key) == b"second"


async def test_a_missing_key_is_file_not_found(files: MediaFiles) -> None:
    with pytest.raises(FileNotFoundError):
        await files.get(new_key("original", "png"))


async def test_deleting_removes_and_absent_keys_are_fine(files: MediaFiles) -> None:
    kept, gone = new_key("small", "webp"), new_key("original", "jpg")
    await files.put(kept, b"kept", "image/webp")
    await files.put(gone, b"gone", "image/jpeg")
    await files.delete(gone, new_key("original", "jpg"))
    await files.delete()
    with pytest.raises(FileNotFoundError):
        await files.get(gone)
    assert await files.get(kept) == b"kept"


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_keys_that_could_leave_the_store_are_refused(files: MediaFiles, key: str) -> None:
    with pytest.raises(ValueError):
        await files.put(key, b"x", "image/png")
    with pytest.raises(ValueError):
        await files.get(key)
    with pytest.raises(ValueError):
        await files.delete(new_key("small", "png"), key)
    with pytest.raises(ValueError):
        files.url(key)


async def test_many_puts_at_once(files: MediaFiles) -> None:
    keys = [new_key("small", "png") for _ in range(40)]
    await asyncio.gather(*(files.put(key, key.encode(), "image/png") for key in keys))
    got = await asyncio.gather(*(files.get(key) for key in keys))
    assert got == [key.encode() for key in keys]


# --- Keys ------------------------------------------------------------------------------------


def test_new_keys_are_unguessable_and_spread_over_folders() -> None:
    keys = {new_key("avatar", "png") for _ in range(1000)}
    assert len(keys) == 1000
    for key in keys:
        assert re.fullmatch(r"avatar/([0-9a-f]{2})/\1[0-9a-f]{30}\.png", key), key
    assert len({key.split("/")[1] for key in keys}) > 200


@pytest.mark.parametrize(("kind", "ext"), [("", "png"), ("../x", "png"), ("small", ".png")])
def test_new_key_takes_words_only(kind: str, ext: str) -> None:
    with pytest.raises(ValueError):
        new_key(kind, ext)


# --- The local backend -------------------------------------------------------------------------


async def test_local_files_live_beside_the_database_and_the_folder_is_made_on_first_use(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    assert media_dir(settings) == tmp_path / "roost-media"
    files = open_media_files(settings)
    assert isinstance(files, LocalMediaFiles) and not (tmp_path / "roost-media").exists()
    key = new_key("original", "png")
    await files.put(key, PNG, "image/png")
    path = tmp_path / "roost-media" / key
    assert path.read_bytes() == PNG
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 & ~_umask()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    assert files.url(key) == f"http://roost.test/media/{key}"


def test_an_absolute_folder_and_a_public_url_are_taken_as_given(tmp_path: Path) -> None:
    settings = _settings(tmp_path, dir=str(tmp_path / "elsewhere"), url="https://cdn.example/m/")
    assert media_dir(settings) == tmp_path / "elsewhere"
    assert (
        open_media_files(settings).url("card/ab/abc.png") == "https://cdn.example/m/card/ab/abc.png"
    )


async def test_a_failed_write_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:
    files = open_media_files(_settings(tmp_path))
    key = new_key("original", "png")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        await files.put(key, PNG, "image/png")
    assert list((tmp_path / "roost-media" / key).parent.iterdir()) == []


async def test_local_io_leaves_the_event_loop_free(tmp_path: Path) -> None:
    files = open_media_files(_settings(tmp_path))
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    await files.put(new_key("original", "png"), b"x" * 8_000_000, "image/png")
    ticker.cancel()
    assert ticks > 1  # the loop ran while the file was written in a worker thread


def test_the_backend_comes_from_the_settings(tmp_path: Path, s3_media: MediaSettings) -> None:
    assert isinstance(open_media_files(_settings(tmp_path)), LocalMediaFiles)
    settings = make_settings(f"sqlite:///{tmp_path / 'roost.db'}", media=s3_media)
    assert isinstance(open_media_files(settings), S3MediaFiles)


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


# --- Serving the local folder at /media/ ---------------------------------------------------------


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, LocalMediaFiles]]:
    settings = _settings(tmp_path)
    site = create_site(settings)
    files = open_media_files(settings)
    assert isinstance(files, LocalMediaFiles)
    transport = httpx.ASGITransport(app=site)
    async with httpx.AsyncClient(transport=transport, base_url="http://roost.test") as client:
        yield client, files


async def test_a_media_file_is_served_with_safe_long_lived_headers(served) -> None:
    client, files = served
    key = new_key("original", "png")
    await files.put(key, PNG, "image/png")
    reply = await client.get(f"/media/{key}")
    assert reply.status_code == 200 and reply.content == PNG
    assert reply.headers["content-type"] == "image/png"
    assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert reply.headers["access-control-allow-origin"] == "*"
    assert "set-cookie" not in reply.headers and "vary" not in reply.headers
    again = await client.get(f"/media/{key}", headers={"If-None-Match": reply.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"
    head = await client.head(f"/media/{key}")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(PNG))


@pytest.mark.parametrize(
    ("ext", "content_type"),
    [("jpg", "image/jpeg"), ("gif", "image/gif"), ("webp", "image/webp"), ("mp4", "video/mp4")],
)
async def test_the_type_comes_from_the_extension(served, ext: str, content_type: str) -> None:
    client, files = served
    key = new_key("small", ext)
    await files.put(key, b"<script>alert(1)</script>", content_type)
    reply = await client.get(f"/media/{key}")
    assert reply.headers["content-type"] == content_type


async def test_missing_files_folders_and_ways_out_are_not_found(served, tmp_path: Path) -> None:
    client, files = served
    key = new_key("original", "png")
    await files.put(key, PNG, "image/png")
    (tmp_path / "roost-media" / "original" / ".x.png.1234.tmp").write_bytes(b"partial")
    folder = key.rsplit("/", 1)[0]
    for path in [
        f"/media/{new_key('original', 'png')}",
        f"/media/{folder}",
        f"/media/{folder}/",
        "/media/",
        "/media/original/.x.png.1234.tmp",
        "/media/%2e%2e/roost.db",
        "/media/original/%2e%2e/%2e%2e/roost.db",
        "/media/..%2froost.db",
        "/media/%2froost.db",
    ]:
        reply = await client.get(path)
        assert reply.status_code == 404, path
        assert reply.headers["cache-control"] == "no-store"
        assert b"SQLite" not in reply.content
    assert (await _raw_get(client, "/media/../roost.db")) == 404
    assert (await client.post(f"/media/{key}")).status_code == 405


async def test_nothing_is_served_when_files_live_in_s3(tmp_path: Path) -> None:
    settings = _settings(tmp_path, backend="s3", s3_bucket="b", s3_endpoint="http://127.0.0.1:1")
    (tmp_path / "roost-media").mkdir()
    (tmp_path / "roost-media" / "x.png").write_bytes(PNG)
    transport = httpx.ASGITransport(app=create_site(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://roost.test") as client:
        assert (await client.get("/media/x.png")).status_code == 404


async def _raw_get(client: httpx.AsyncClient, path: str) -> int:
    """A path sent as it is: httpx would take the dot segments out before sending."""
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    app = transport.app
    statuses: list[int] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"roost.test")],
        "client": ("127.0.0.1", 1),
        "server": ("roost.test", 80),
    }

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]
