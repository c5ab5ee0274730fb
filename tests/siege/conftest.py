"""Fixtures for siege's tests: a real loopback HTTP server that counts clients by address, and
the real `roost serve` on a fresh database."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port

HERE = Path(__file__).parent
REPO = HERE.parents[1]


class TargetServer:
    """A running tests/siege/siege_target.py process."""

    def __init__(self, header_timeout: float, host: str = "127.0.0.1") -> None:
        command = [sys.executable, str(HERE / "siege_target.py")]
        command += ["--header-timeout", str(header_timeout), "--host", host]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.url = f"http://{'[::1]' if ':' in host else host}:{self.port}/"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.url}__stats", timeout=5) as reply:
            return json.loads(reply.read())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def target_server() -> Iterator[Callable[..., TargetServer]]:
    started: list[TargetServer] = []

    def start(header_timeout: float = 30.0, host: str = "127.0.0.1") -> TargetServer:
        server = TargetServer(header_timeout, host)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@contextlib.contextmanager
def serving(tmp_path: Path, **extra_env: str) -> Iterator[str]:
    """`roost serve` on a fresh SQLite database; skips the test if it cannot start."""
    port = free_port()
    env = {**os.environ, "ROOST_DATABASE_URL": f"sqlite:///{tmp_path}/roost.db"}
    env.update(ROOST_PORT=str(port), ROOST_SHIELD_MODE_FILE=str(tmp_path / "mode"), **extra_env)
    log = (tmp_path / "serve.log").open("wb")
    command = [sys.executable, "-m", "roost.cli", "serve"]
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait(server, url, tmp_path / "serve.log")
        form = {"client_name": "probe", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
        if httpx.post(f"{url}api/v1/apps", data=form).status_code == 404:
            pytest.skip("roost serve has no Mastodon API yet (POST /api/v1/apps answered 404)")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


def _wait(server: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.skip(f"roost serve cannot start yet: {log.read_text()[-300:]}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.skip("roost serve did not answer within 30 s")


@pytest.fixture
def roost_serving() -> Callable[..., contextlib.AbstractContextManager[str]]:
    """``with roost_serving(tmp_path, **env) as url:`` — `roost serve` for the block."""
    return serving
