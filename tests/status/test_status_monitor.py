"""The probe loop feeds a status server, in process or pushed over the admin API."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
from status_support import TOKEN, StatusServer, status_settings

from roost.status import monitor
from roost.status.model import ProbeResult, utcnow
from roost.status.probes import Prober
from tests.support.waiting import wait_until


def healthy(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/v2/search":
        return httpx.Response(200, json={"statuses": []})
    if request.url.path == "/api/v1/streaming/public":
        return httpx.Response(200, content=b":)\n")
    return httpx.Response(200, json=[] if "timelines" in request.url.path else {}, text=None)


async def run_for(seconds: float, prober: Prober, sink: monitor.Sink) -> None:
    task = asyncio.create_task(monitor.run(prober, sink, interval=0.05))
    await asyncio.sleep(seconds)  # Kept: the monitor runs for this long, on purpose
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_rounds_are_pushed_to_the_status_server(live: StatusServer) -> None:
    prober = Prober("http://site", transport=httpx.MockTransport(healthy))
    sink = monitor.PushSink(live.url, TOKEN)
    try:
        await run_for(0.4, prober, sink)
    finally:
        await sink.close()
        await prober.close()
    tallies = live.runtime.service.tallies.days
    assert {cid for cid, _ in tallies} == {"web", "api", "search", "streaming"}
    assert all(total >= 2 for _, total in tallies.values())


async def test_a_failing_sink_or_round_does_not_stop_the_loop() -> None:
    calls: list[int] = []

    async def broken(results: list[ProbeResult]) -> None:
        calls.append(len(results))
        raise RuntimeError("sink down")

    prober = Prober("http://site", transport=httpx.MockTransport(healthy))
    try:
        await run_for(0.3, prober, broken)
    finally:
        await prober.close()
    assert len(calls) >= 2


async def test_push_to_a_missing_server_is_logged_not_raised() -> None:
    sink = monitor.PushSink("http://127.0.0.1:9", TOKEN, timeout=0.5)
    try:
        await sink([ProbeResult(utcnow(), "home", "web", True, 1.0)])
    finally:
        await sink.close()


def test_an_invalid_target_leaves_the_page_up_and_fails_every_probe(tmp_path: Path) -> None:
    settings = status_settings(
        tmp_path, monitor=True, target_url="http://[::1", probe_interval=0.05
    )
    with StatusServer(settings) as live:
        service = live.runtime.service
        # at least two rounds of four checks
        wait_until(lambda: len(service.recent) >= 8, "eight probes", seconds=10, interval=0.05)
        assert httpx.get(live.url + "/").status_code == 200
        recent = list(service.recent)
        assert len(recent) >= 8  # at least two rounds of four checks
        assert all(not r.ok for r in recent)
        assert all(r.detail.startswith("invalid target URL: 'http://[::1'") for r in recent)
        assert service.components["web"].status == "major_outage"  # fail_after=2
