"""Fixtures for the status tests: a clock, a service on a temporary SQLite file, an in-process
client, and a real status server in a background thread."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from status_support import TOKEN, Clock, StatusServer, status_settings

from roost.config import Settings
from roost.status.app import StatusApp
from roost.status.server import thresholds
from roost.status.service import StatusService
from roost.status.store import make_engine


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return status_settings(tmp_path)


@pytest.fixture
async def service(settings: Settings, clock: Clock) -> AsyncIterator[StatusService]:
    """A status server past its start-up grace: every probe counts at once (the grace itself is
    tested in test_status_startup.py)."""
    s = settings.status
    svc = StatusService(
        make_engine(s.database_url),
        name=s.page_name,
        url=s.page_url,
        components=s.components,
        thresholds=thresholds(s),
        clock=clock,
        start_grace=timedelta(0),
    )
    await svc.start()
    yield svc
    await svc.close()


@pytest.fixture
async def client(service: StatusService) -> AsyncIterator[httpx.AsyncClient]:
    app = StatusApp(service, TOKEN)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://status") as c:
        yield c


@pytest.fixture
def live(settings: Settings) -> Iterator[StatusServer]:
    with StatusServer(settings) as server:
        yield server
