"""Settings for a test, built from nothing: no ROOST_* from the environment leaks in."""

from __future__ import annotations

from roost.config import Settings

SECRET_KEY = "test-secret-" + "x" * 32


def make_settings(database_url: str, **overrides: object) -> Settings:
    """The site's settings on ``database_url``, with ``overrides`` (field=value) applied."""
    base: dict[str, object] = {"secret_key": SECRET_KEY, "domain": "roost.test"}
    base.update(overrides)
    return Settings.from_env({}, database_url=database_url, **base)
