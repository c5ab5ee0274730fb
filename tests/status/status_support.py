"""Helpers shared by the status tests: a settable clock, settings, a real server in a thread.

(Kept out of conftest.py so test modules import them by a unique name.)
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from roost.config import Settings
from roost.status.server import build
from tests.support.ports import free_port
from tests.support.servers import ThreadedServer

TOKEN = "test-admin-token"
T0 = datetime(2026, 11, 28, 11, 0, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def status_settings(tmp_path: Path, **changes: object) -> Settings:
    base = Settings.from_env({})
    defaults: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'status.db'}",
        "admin_token": TOKEN,
        "monitor": False,
        "fail_after": 2,
        "recover_after": 2,
        "quiet_period": 60.0,
    }
    status = dataclasses.replace(base.status, **{**defaults, **changes})
    return base.replace(status=status)


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


class StatusServer(ThreadedServer):
    """A real status server (uvicorn in a thread), for wire-level tests."""

    def __init__(self, settings: Settings) -> None:
        port = free_port()
        status = dataclasses.replace(
            settings.status, port=port, page_url=f"http://127.0.0.1:{port}"
        )
        self.settings = settings.replace(status=status)
        self.app, self.runtime = build(self.settings)
        super().__init__(self.app, port)

    def __enter__(self) -> StatusServer:
        super().__enter__()
        return self


SHIELD_EVENT = {
    "type": "attack_started",
    "at": "2026-11-28T11:00:16.123Z",
    "started_at": "2026-11-28T11:00:02.000Z",
    "classification": ["volumetric_get_flood", "cache_busting"],
    "summary": "a GET flood from 5,100 addresses in 212 prefixes",
    "figures": {"requests_per_s": 41000, "sources": 5100, "reject_ratio": 0.97},
    "source": "roost-shield/test:1",
}
