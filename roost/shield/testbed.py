"""A small ASGI site with a realistic cost per request, served the way `roost serve` serves.

For the shield's integration tests and benchmarks while the real site is built alongside:
``python -m roost.shield.testbed --port 8123 [--no-shield] [--cost-ms 2]``. Settings come from
``ROOST_*`` like the real server. Routes: ``/hello`` (no work), ``/health``, ``/posts`` (GET: how
many were stored), ``POST /api/v1/statuses`` (stores one, durable in memory), anything else a page
costing ``cost_ms`` of CPU plus a 2 ms await (a database round trip).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import uvicorn
from starlette.types import Receive, Scope, Send

from roost.config import Settings
from roost.server import uvicorn_options

SECRET = b"testbed-secret-0123456789abcdef!"


class ToyApp:
    def __init__(self, cost_ms: float = 2.0) -> None:
        self.cost = cost_ms / 1000
        self.posts: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path in ("/hello", "/health"):
            await _text(send, 200, b"hello")
            return
        body = await _body(receive)
        if path == "/posts":
            await _text(send, 200, str(len(self.posts)).encode())
            return
        _burn(self.cost)
        await asyncio.sleep(0.002)
        if scope["method"] == "POST" and path == "/api/v1/statuses":
            self.posts.append(body)
            await _text(send, 200, b'{"id":"%d"}' % len(self.posts))
            return
        await _text(send, 200, b"<p>" + path.encode() + b"</p>", b"text/html; charset=utf-8")


def _burn(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _text(send: Send, status: int, body: bytes, ctype: bytes = b"text/plain") -> None:
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def build(settings: Settings, shield: bool, cost_ms: float) -> Any:
    app: Any = ToyApp(cost_ms)
    if shield:
        from roost.shield.layer import Shield

        app = Shield(app, settings, secret=SECRET)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--cost-ms", type=float, default=2.0)
    parser.add_argument("--no-shield", action="store_true")
    parser.add_argument("--plain-uvicorn", action="store_true", help="uvicorn's own protocol")
    args = parser.parse_args()
    settings = Settings.from_env(port=args.port)
    options = uvicorn_options(settings)
    options["log_level"] = "warning"
    if args.plain_uvicorn:
        options["http"] = "httptools"
    uvicorn.run(build(settings, not args.no_shield, args.cost_ms), **options)


if __name__ == "__main__":
    main()


class ServerProcess:
    """A testbed server in a subprocess on a free loopback port (tests and benchmarks)."""

    def __init__(self, log_path: str, *args: str, **env: str) -> None:
        import os
        import socket
        import subprocess
        import sys

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        environ = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
        environ.update(env)
        self._log = open(log_path, "ab")  # noqa: SIM115 (closed in stop())
        command = [sys.executable, "-m", "roost.shield.testbed", "--port", str(self.port), *args]
        self.process = subprocess.Popen(command, env=environ, stdout=self._log, stderr=self._log)

    def wait_ready(self, timeout: float = 20.0) -> ServerProcess:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("testbed server did not start: " + self.log())

    def log(self) -> str:
        with open(self.log_path, errors="replace") as handle:
            return handle.read()

    def stop(self) -> None:
        import subprocess

        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
