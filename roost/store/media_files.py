"""PLACEHOLDER (the real module arrives from another branch at merge): local files only."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path


def new_key(kind: str, ext: str) -> str:
    token = secrets.token_hex(16)
    return f"{kind}/{token[:2]}/{token}.{ext}"


class LocalFiles:
    def __init__(self, root: str, base: str) -> None:
        self.root, self.base = Path(root), base

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(path.write_bytes, data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread((self.root / key).read_bytes)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            (self.root / key).unlink(missing_ok=True)

    def url(self, key: str) -> str:
        return f"{self.base}/{key}"

    async def close(self) -> None:
        return None


def open_media_files(settings):
    return LocalFiles(settings.media.dir, settings.media.url or f"{settings.base_url}/media")
