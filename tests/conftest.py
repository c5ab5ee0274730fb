"""Shared fixtures: settings, databases (SQLite and the real PostgreSQL), Redis, a live server.

Services: PostgreSQL at 127.0.0.1:5432 (database ``test``) and Redis at 127.0.0.1:6379. When one
is missing, tests that need it are skipped with a message saying how to start it, unless
ROOST_TEST_REQUIRE_SERVICES=1 (set by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.servers import LiveServer, server_env
from tests.support.settings import make_settings

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
