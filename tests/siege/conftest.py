"""Fixtures for siege's tests: a real loopback HTTP server that counts clients by address."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

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
