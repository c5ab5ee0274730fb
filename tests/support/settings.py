"""Settings for a test, built from nothing: no ROOST_* from the environment leaks in."""

from __future__ import annotations

import atexit
import secrets
import shutil
import tempfile
from pathlib import Path

from roost.config import MediaSettings, Settings

SECRET_KEY = "test-secret-" + "x" * 32


def make_settings(database_url: str, **overrides: object) -> Settings:
    """The site's settings on ``database_url``, with ``overrides`` (field=value) applied."""
    base: dict[str, object] = {"secret_key": SECRET_KEY, "domain": "roost.test"}
    base.update(overrides)
    if "media" not in base:  # a test's pictures in a folder of its own, never the checkout's
        base["media"] = MediaSettings(dir=media_dir())
    return Settings.from_env({}, database_url=database_url, **base)


_MEDIA_DIRS: list[Path] = []


def media_dir() -> str:
    """A fresh folder name for a test's media files (made by the store when first used, and
    removed when the test run ends)."""
    folder = Path(tempfile.gettempdir()) / f"roost-media-{secrets.token_hex(8)}"
    if not _MEDIA_DIRS:
        atexit.register(_remove_media_dirs)
    _MEDIA_DIRS.append(folder)
    return str(folder)


def _remove_media_dirs() -> None:
    for folder in _MEDIA_DIRS:
        shutil.rmtree(folder, ignore_errors=True)
