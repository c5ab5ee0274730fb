"""Fixtures for the web site's tests: the site in-process (httpx over ASGI) and a real browser."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from roost.app import create_site, start
from roost.config import MediaSettings, Settings
from tests.support.settings import media_dir

CSRF = re.compile(r'name="csrf" value="([^"]*)"')
PASSWORD = "correct horse battery"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


class Web:
    """Helpers the tests share (a fixture, since test folders here are not packages)."""

    password = PASSWORD

    def __init__(self, site) -> None:
        self.site = site

    def visitor(self) -> httpx.AsyncClient:
        """One person with their own cookie jar, talking to the site in-process."""
        transport = httpx.ASGITransport(app=self.site)
        return httpx.AsyncClient(transport=transport, base_url="http://roost.test")

    @staticmethod
    def csrf_of(page_html: str) -> str:
        found = CSRF.search(page_html)
        assert found, "no CSRF token on the page"
        return found.group(1)

    async def sign_up(self, client: httpx.AsyncClient, username: str, **extra: str):
        form = await client.get("/signup")
        data = {"csrf": self.csrf_of(form.text), "username": username, "password": PASSWORD}
        return await client.post("/signup", data={**data, **extra})

    async def token(self, client: httpx.AsyncClient, path: str = "/settings") -> str:
        return self.csrf_of((await client.get(path)).text)

    async def post(self, client: httpx.AsyncClient, text: str, **extra: str) -> httpx.Response:
        data = {"csrf": await self.token(client), "text": text, **extra}
        return await client.post("/compose", data=data)

    async def settle(self) -> None:
        """Wait until fan-out has delivered every queued post to home feeds."""
        await self.site.state.ctx.fanout.drain()


@pytest.fixture
async def site(database_url: str) -> AsyncIterator:
    settings = Settings.from_env(
        {},
        database_url=database_url,
        secret_key="web-test-" + "z" * 32,
        domain="roost.test",
        media=MediaSettings(dir=media_dir()),  # the pictures in a folder of their own
    )
    app = create_site(settings)
    await start(app.state.ctx)
    yield app
    await app.state.ctx.close()


@pytest.fixture
def web(site) -> Web:
    return Web(site)


@pytest.fixture
async def client(web: Web) -> AsyncIterator[httpx.AsyncClient]:
    async with web.visitor() as visitor:
        yield visitor


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Debian's chromium, headless, driven by Playwright (its own download cannot work here)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed; run scripts/system-deps")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
