"""Real servers for wire-level tests: `roost serve` in a subprocess, or any ASGI app in a thread."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tests.support.ports import free_port
from tests.support.waiting import wait_until


def server_env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    """The environment of a `roost serve`: this one without ROOST_*, plus what it needs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env.update(
        ROOST_DATABASE_URL=database_url,
        ROOST_PORT=str(port),
        ROOST_DOMAIN=f"127.0.0.1:{port}",
        ROOST_SECRET_KEY="test-secret-" + "y" * 32,
    )
    env.update(extra)
    return env


class LiveServer:
    """A `roost serve` subprocess on a free loopback port."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> LiveServer:
        with self.log.open("ab") as log:  # Popen dups the descriptor; ours must be closed
            self.process = subprocess.Popen(
                [sys.executable, "-m", "roost.cli", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(self._healthy, f"{self.url}/health", timeout, interval=0.1)
        except AssertionError:
            raise RuntimeError(f"server did not start: {self._log_tail()}") from None
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"server exited: {self._log_tail()}")
        try:
            return httpx.get(self.url + "/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def _log_tail(self) -> str:
        return self.log.read_text()[-2000:]

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class ThreadedServer:
    """An ASGI app served by uvicorn in a thread (its own event loop): real sockets, while the
    test can still reach into the app's objects."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        wait_until(self._started, f"a server on port {self.port}", seconds=15, interval=0.02)
        return self

    def _started(self) -> bool:
        if not self.thread.is_alive():
            raise RuntimeError(f"the server on port {self.port} stopped while starting")
        return self.server.started

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
