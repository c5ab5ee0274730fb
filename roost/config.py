"""Roost's one settings object, read from ``ROOST_*`` environment variables.

Every setting has a name, a default and a line of help (the Datasette way), so that
``roost settings`` and ``/-/settings`` can show them and a test can check they are documented.
Sections (shield, status, siege) read ``ROOST_<SECTION>_<NAME>``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


def setting(default: Any, help: str) -> Any:
    """A settings field with its help text kept beside it."""
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class ShieldSettings:
    """The defence in front of the site (issue: the shield)."""

    enabled: bool = setting(True, "Run the shield in front of the site.")
    trusted_proxies: list = setting([], "Peers whose X-Forwarded-For/Forwarded is believed.")


@dataclass(frozen=True)
class StatusSettings:
    """The separate status-page process (issue: the status blog)."""

    database_url: str = setting("sqlite:///roost-status.db", "Status server's own database.")
    host: str = setting("127.0.0.1", "Status server bind address.")
    port: int = setting(8090, "Status server port.")
    page_url: str = setting("http://127.0.0.1:8090", "Public URL of the status page.")
    admin_token: str = setting("", "Bearer token for the status admin API and shield events.")


@dataclass(frozen=True)
class Settings:
    """Everything Roost can be told; defaults run with no services at all."""

    database_url: str = setting("sqlite:///roost.db", "SQLAlchemy URL: sqlite:///file or postgresql://...")
    redis_url: str = setting("", "Redis URL; empty means in-process feeds, queue and limits.")
    host: str = setting("127.0.0.1", "Bind address of `roost serve`.")
    port: int = setting(8000, "Port of `roost serve`.")
    workers: int = setting(1, "Worker processes for `roost serve`.")
    instance_name: str = setting("Roost", "Name shown to users and clients.")
    domain: str = setting("localhost:8000", "Public host[:port] of this instance.")
    https: bool = setting(False, "Public URLs use https (and cookies are Secure).")
    secret_key: str = setting("", "Secret for sessions and signatures; generated per data dir if empty.")
    max_post_chars: int = setting(500, "Longest post, counted as Mastodon counts.")
    fanout_threshold: int = setting(10_000, "Authors with more followers are merged in at read time.")
    feed_length: int = setting(800, "Entries kept in each home feed.")
    worker_id: int = setting(0, "Snowflake worker id (0-1023), distinct per process.")
    registrations_open: bool = setting(True, "Anyone may sign up.")
    password_grant: bool = setting(True, "Allow the OAuth password grant (scripts and tests use it).")
    auto_migrate: bool = setting(True, "Apply migrations when `roost serve` starts.")
    shield: ShieldSettings = field(default_factory=ShieldSettings)
    status: StatusSettings = field(default_factory=StatusSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``ROOST_*`` variables, then apply keyword overrides."""
        env = os.environ if env is None else env
        values = _read_section(cls, env, "ROOST_")
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def base_url(self) -> str:
        return f"{'https' if self.https else 'http'}://{self.domain}"


def _read_section(cls: type, env: Mapping[str, str], prefix: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in _SECTIONS:
            section = _SECTIONS[f.name]
            values[f.name] = section(**_read_section(section, env, f"{prefix}{f.name.upper()}_"))
            continue
        raw = env.get(prefix + f.name.upper())
        if raw is not None:
            sample = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            values[f.name] = _parse(raw, sample, prefix + f.name.upper())
    return values


def _parse(raw: str, default: Any, name: str) -> Any:
    try:
        if isinstance(default, bool):
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise SystemExit(f"{name}: cannot read {raw!r} as {type(default).__name__}") from None
    if isinstance(default, list):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def describe(settings: Settings, prefix: str = "ROOST_") -> list[tuple[str, Any, str]]:
    """(env name, current value, help) for every setting, secrets masked."""
    rows: list[tuple[str, Any, str]] = []
    for f in fields(settings):
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value):
            rows.extend(describe(value, f"{prefix}{f.name.upper()}_"))
            continue
        shown = "********" if "secret" in f.name and value else value
        rows.append((prefix + f.name.upper(), shown, f.metadata.get("help", "")))
    return rows


_SECTIONS: dict[str, type] = {"shield": ShieldSettings, "status": StatusSettings}
