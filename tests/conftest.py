"""Shared fixtures: settings, databases (SQLite and the real PostgreSQL), Redis, a live server.

Services: PostgreSQL at 127.0.0.1:5432 (database ``test``) and Redis at 127.0.0.1:6379. When one
is missing, tests that need it are skipped with a message saying how to start it, unless
ROOST_TEST_REQUIRE_SERVICES=1 (set by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from roost.config import Settings

PG_ADMIN_URL = os.environ.get("ROOST_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ROOST_TEST_REDIS", "redis://127.0.0.1:6379/0")
REQUIRE = os.environ.get("ROOST_TEST_REQUIRE_SERVICES") == "1"
HOW_TO = {
    "postgres": "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) "
    "main start",
    "redis": "start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''",
}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def need_service(name: str) -> None:
    """Skip (or fail in CI) when a service is not running."""
    port = {"postgres": 5432, "redis": 6379}[name]
    if _reachable("127.0.0.1", port):
        return
    message = f"{name} is not running on 127.0.0.1:{port}; {HOW_TO[name]}"
    if REQUIRE:
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- PostgreSQL: one fresh database per test session, emptied between tests -----------------


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    need_service("postgres")
    import asyncpg

    name = f"roost_test_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN_URL

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    from roost.store.migrate import upgrade

    upgrade(url)
    yield url
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def empty_postgres(url: str) -> None:
    """Remove every row of the site's tables (faster than a new database per test)."""
    import asyncpg

    from roost.store.tables import metadata

    conn = await asyncpg.connect(url)
    try:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        await conn.execute(f"TRUNCATE {names} CASCADE")
    finally:
        await conn.close()


def _empty_postgres(url: str) -> None:
    asyncio.run(empty_postgres(url))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path: Path) -> str:
    """Each test that takes this runs on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'roost.db'}"
    url = request.getfixturevalue("pg_database")
    _empty_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'roost.db'}"


@pytest.fixture
def redis_url() -> Iterator[str]:
    need_service("redis")
    yield REDIS_URL


def make_settings(database_url: str, **overrides) -> Settings:
    """Settings for a test: no ROOST_* from the environment leak in."""
    base = {"secret_key": "test-secret-" + "x" * 32, "domain": "roost.test"}
    base.update(overrides)
    return Settings.from_env({}, database_url=database_url, **base)


@pytest.fixture
async def ctx(database_url: str) -> AsyncIterator:
    """A running site context (migrated, fan-out started) on each database."""
    from roost.app import start
    from roost.services.context import build_context

    context = build_context(make_settings(database_url))
    await start(context)
    yield context
    await context.close()


# --- A real server process --------------------------------------------------------------------


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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

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


def server_env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env.update(
        ROOST_DATABASE_URL=database_url,
        ROOST_PORT=str(port),
        ROOST_DOMAIN=f"127.0.0.1:{port}",
        ROOST_SECRET_KEY="test-secret-" + "y" * 32,
    )
    env.update(extra)
    return env


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator:
    """Start real servers: ``live_server_factory(database_url, **ROOST_env)``; stopped after."""
    servers: list[LiveServer] = []

    def start(database_url: str | None = None, **extra: str) -> LiveServer:
        port = free_port()
        url = database_url or f"sqlite:///{tmp_path / f'live-{port}.db'}"
        server = LiveServer(server_env(url, port, **extra), port, tmp_path / f"server-{port}.log")
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live_server(live_server_factory) -> LiveServer:
    """A real Roost server on SQLite with the shield on."""
    return live_server_factory()
