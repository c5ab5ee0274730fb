"""Background work steps aside while requests are in flight; live streams do not count."""

from __future__ import annotations

import asyncio

import pytest

from roost.foreground import CountForeground
from roost.services.foreground import Foreground
from tests.support.waiting import wait_for


async def test_requests_in_flight_are_counted_and_streams_are_not():
    foreground = Foreground()
    release = asyncio.Event()
    seen = []

    async def app(scope, receive, send):
        seen.append(foreground.active)
        await release.wait()

    layer = CountForeground(app, foreground)
    page = asyncio.create_task(layer({"type": "http", "path": "/home"}, None, None))
    streams = [
        asyncio.create_task(layer({"type": "http", "path": path}, None, None))
        for path in ("/api/v1/streaming/user", "/web/stream")
    ]
    await wait_for(lambda: len(seen) == 3, "all three requests in the app")
    assert foreground.active == 1  # the page, not the two streams
    started = asyncio.get_running_loop().time()
    await foreground.step_aside(longest=0.05)  # a request is in flight: waits, bounded
    assert asyncio.get_running_loop().time() - started >= 0.04
    release.set()
    await asyncio.gather(page, *streams)
    assert foreground.active == 0
    started = asyncio.get_running_loop().time()
    await foreground.step_aside(longest=1.0)  # nobody waiting: no wait at all
    assert asyncio.get_running_loop().time() - started < 0.01


async def test_a_request_that_fails_still_leaves():
    foreground = Foreground()

    async def broken(scope, receive, send):
        raise RuntimeError("boom")

    layer = CountForeground(broken, foreground)
    with pytest.raises(RuntimeError):
        await layer({"type": "http", "path": "/x"}, None, None)
    assert foreground.active == 0
