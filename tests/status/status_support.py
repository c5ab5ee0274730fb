"""Helpers shared by the status tests: a settable clock, settings, a real server in a thread.

(Kept out of conftest.py so test modules import them by a unique name.)
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn

from roost.config import Settings
from roost.status.server import build

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A real uvicorn status server in a thread (its own event loop), for wire-level tests."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        status = dataclasses.replace(
            settings.status, port=self.port, page_url=f"http://127.0.0.1:{self.port}"
        )
        self.settings = settings.replace(status=status)
        self.url = status.page_url
        self.app, self.runtime = build(self.settings)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("status server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


SHIELD_EVENT = {
    "type": "attack_started",
    "at": "2026-11-28T11:00:16.123Z",
    "started_at": "2026-11-28T11:00:02.000Z",
    "classification": ["volumetric_get_flood", "cache_busting"],
    "summary": "a GET flood from 5,100 addresses in 212 prefixes",
    "figures": {"requests_per_s": 41000, "sources": 5100, "reject_ratio": 0.97},
    "source": "roost-shield/test:1",
}
