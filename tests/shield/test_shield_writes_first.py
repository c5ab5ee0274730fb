"""A signed-in person's post goes ahead of queued reads (issue 13: in bench/steady_state.py a
post waited behind 32 saturating readers, p99 140-330 ms against a 25 ms target)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from roost.config import Settings, ShieldSettings
from roost.domain.signed import mint_token
from roost.shield.layer import Shield

SECRET = b"w" * 32


class SlowApp:
    """Every request takes 30 ms of the one slot; the order they started in is kept."""

    def __init__(self) -> None:
        self.started: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        self.started.append(f"{scope['method']} {scope['path']}")
        await asyncio.sleep(0.03)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def test_a_post_is_admitted_before_reads_that_queued_first(tmp_path: Path) -> None:
    app = SlowApp()
    one_slot = ShieldSettings(
        mode="off",
        mode_file=str(tmp_path / "mode"),
        concurrency_initial=1,
        concurrency_min=1,
        concurrency_max=1,
    )
    shield = Shield(app, Settings.from_env({}, shield=one_slot), secret=SECRET)
    created = int(time.time()) - 400 * 86400
    readers = [{"Authorization": f"Bearer {mint_token(SECRET, n, created)}"} for n in range(1, 6)]
    poster = {"Authorization": f"Bearer {mint_token(SECRET, 99, created)}"}
    transport = httpx.ASGITransport(app=shield, client=("198.51.100.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://roost.test") as client:
        reads = [
            asyncio.create_task(client.get(f"/api/v1/timelines/home?r={n}", headers=headers))
            for n, headers in enumerate(readers)
        ]
        await asyncio.sleep(0.01)  # the reads are running or queued
        posted = await client.post("/api/v1/statuses", data={"status": "hi"}, headers=poster)
        answers = await asyncio.gather(*reads)
    await shield.aclose()
    assert posted.status_code == 200 and all(a.status_code == 200 for a in answers)
    position = app.started.index("POST /api/v1/statuses")
    assert position <= 1, app.started  # after the read holding the slot, before the queued ones
