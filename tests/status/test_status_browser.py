"""A real browser (Debian's chromium through Playwright) renders the bars and the chart.

The page is filled with 90 days of history and two automatic incidents first. The screenshot goes
to a temporary folder, or to docs/status-page.png with ROOST_SCREENSHOTS=1 (as the web tests do).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from status_support import SHIELD_EVENT, Clock, StatusServer, status_settings

from roost.status import machine, store
from roost.status.model import ProbeResult, slug
from roost.status.server import thresholds
from roost.status.service import StatusService

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
BAD_DAYS = {40: ("web", 0.97), 12: (None, 0.985), 3: ("search", 0.9995)}


def chromium() -> str:
    path = shutil.which("chromium")
    if path:
        return path
    message = "Debian's chromium is not installed (scripts/system-deps installs it)"
    if os.environ.get("ROOST_TEST_REQUIRE_SERVICES"):
        pytest.fail(message)
    pytest.skip(message)


async def story(service: StatusService, clock: Clock, recover: bool) -> None:
    """An outage under attack, told by the automation: down, identified, back (and resolved)."""
    ids = list(service.components)

    async def round_(ok: bool) -> None:
        clock.advance(5)
        latency = 40.0 if ok else 3000.0
        await service.record_round([ProbeResult(clock(), c, c, ok, latency) for c in ids])

    for ok in (True, False, False, False):
        await round_(ok)
    clock.advance(3)
    event = machine.Attack(
        "attack_started",
        clock(),
        clock() - timedelta(seconds=25),
        tuple(SHIELD_EVENT["classification"]),  # type: ignore[arg-type]
        str(SHIELD_EVENT["summary"]),
    )
    await service.shield_event(SHIELD_EVENT, event)
    for _ in range(40):
        await round_(False)
    for _ in range(3):
        await round_(True)
    if recover:
        await service.shield_event(SHIELD_EVENT, machine.Attack("attack_ended", clock()))
        clock.advance(400)
        await service.tick()


async def fill(settings_url: str, names: list[str], now: datetime) -> None:
    engine = store.make_engine(settings_url)
    await store.create_tables(engine)
    rng = random.Random(5)
    async with engine.begin() as conn:
        for back in range(1, 90):
            day = (now - timedelta(days=back)).date()
            for name in names:
                cid = slug(name)
                bad = BAD_DAYS.get(back)
                ratio = bad[1] if bad and bad[0] in (None, cid) else 1.0
                await conn.execute(
                    store.daily.insert().values(
                        component=cid, day=day, ok=round(17280 * ratio), total=17280
                    )
                )
        probes = []
        at = now - timedelta(hours=24)
        while at < now - timedelta(minutes=30):
            slow = 1 + 2 * (9 <= at.hour < 11)
            for name in names:
                base = {"Sign-in": 120, "Posting": 75, "Search": 60}.get(name, 40)
                ms = rng.gauss(base, base / 6) * slow
                probes.append(ProbeResult(at, "x", slug(name), True, max(5.0, ms)))
            at += timedelta(minutes=2)
        await store.add_probes(conn, probes)
    await engine.dispose()


def populate(tmp_path: Path) -> None:
    settings = status_settings(tmp_path).status
    now = datetime.now(UTC).replace(microsecond=0)

    async def run() -> None:
        await fill(settings.database_url, settings.components, now)
        for start, recover in (
            (now - timedelta(days=3), True),
            (now - timedelta(minutes=12), False),
        ):
            clock = Clock(start)
            service = StatusService(
                store.make_engine(settings.database_url),
                name="Roost",
                url=settings.page_url,
                components=settings.components,
                thresholds=thresholds(settings),
                clock=clock,
            )
            await service.start()
            await story(service, clock, recover)
            await service.close()

    asyncio.run(run())


@pytest.mark.browser
def test_page_renders_bars_and_chart_in_chromium(tmp_path: Path) -> None:
    executable = chromium()
    from playwright.sync_api import sync_playwright

    populate(tmp_path)
    with StatusServer(status_settings(tmp_path)) as live, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1200})
            page.goto(live.url + "/", wait_until="load")
            assert page.locator("#overall").inner_text() == "Partially Degraded Service"
            bars = page.locator("svg.uptime rect.bar")
            assert bars.count() == 90 * 7
            box = bars.first.bounding_box()
            assert box and box["width"] > 1 and box["height"] > 20
            red = page.locator('svg.uptime rect.bar[fill="#e67e22"], rect.bar[fill="#e74c3c"]')
            assert red.count() >= 7
            lines = page.locator("svg.latency polyline.line")
            assert lines.count() == 7  # one per component
            assert lines.first.get_attribute("data-component") == "web"
            chart = page.locator("svg.latency").bounding_box()
            assert chart and chart["width"] > 500 and chart["height"] > 100
            assert page.locator("svg.latency rect.failed").count() >= 1
            text = page.locator("body").inner_text()
            assert "Roost is back up; we are continuing to defend against" in text
            assert "Roost was down from" in text
            keep = os.environ.get("ROOST_SCREENSHOTS") == "1"
            shot = ROOT / "docs" / "status-page.png" if keep else tmp_path / "status-page.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
