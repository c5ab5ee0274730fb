"""Simulated browsers load what a browser loads; users' schedules are open-loop."""

from __future__ import annotations

import asyncio
import random
import time

import httpx

from roost.shield.fingerprint import fingerprint
from roost.siege.flood import Budget
from roost.siege.guard import check_target
from roost.siege.legit import Clock, Reader, Recorder, Visitor, subresources
from roost.siege.stats import Ledger
from roost.siege.statuspage import StatusPoller
from roost.siege.timeline import Timeline


def test_subresources_are_same_site_stylesheets_icons_scripts_and_images() -> None:
    page = """
    <link rel="stylesheet" href="/static/a.css?v=1"><link href="/b.css" rel="stylesheet">
    <LINK REL="icon" HREF="/i.svg"><link rel="preload" href="/skip"><link rel="stylesheet"
    href="//cdn.example/c.css"><script src="/static/a.js" defer></script>
    <script src="https://evil.example/x.js"></script><img alt="" src="/me.png">
    <img src="/me.png"><a href="/not-a-subresource">x</a><img src="/p?a=1&amp;b=2">
    """
    assert subresources(page) == [
        "/static/a.css?v=1",
        "/b.css",
        "/i.svg",
        "/static/a.js",
        "/me.png",
        "/p?a=1&b=2",
    ]


def test_the_clock_attributes_moments_to_phases() -> None:
    clock = Clock(100.0, (("baseline", 0, 2), ("attack", 2, 5)), 105.0)
    assert clock.phase_at(100.5) == "baseline" and clock.phase_at(102.0) == "attack"
    assert clock.phase_at(99.0) == "attack"  # outside every phase: the last one
    assert clock.phase_at(200.0) == "attack"


class StalledVisitor(Visitor):
    """A visitor whose every action takes 0.2 s, as against a stalled server."""

    name = "stalled"

    def client(self, timeout_s: float) -> httpx.AsyncClient:
        return httpx.AsyncClient()  # never used for a request

    async def act(self, client: httpx.AsyncClient) -> int:
        await asyncio.sleep(0.2)
        return 200


async def test_latency_counts_from_the_intended_start_not_the_actual_one() -> None:
    now = time.monotonic()
    clock = Clock(now, (("only", 0, 0.6),), now + 0.6)
    recorder = Recorder(Ledger(), Timeline(), clock, objective_s=0.5, budget=Budget(1000))
    target = check_target("http://127.0.0.1:9/")
    visitor = StalledVisitor(target, None, random.Random(1), rate_per_min=600)  # every 0.1 s
    await visitor.run(recorder, asyncio.Event(), timeout_s=5)
    stats = recorder.ledger.get("only", "stalled")
    assert stats.sent == stats.answered >= 3
    # Closed-loop timing would say 200 ms every time; open-loop, the queue behind the stall grows.
    assert stats.histogram.get_min_value() >= 190_000
    assert stats.histogram.get_max_value() > 400_000
    assert stats.ok < stats.sent  # the later ones blew the 0.5 s objective


def test_simulated_people_look_like_the_browsers_they_claim_to_be() -> None:
    """The shield's header check sees no script in disguise, whatever the User-Agent."""
    target = check_target("http://127.0.0.1:8000/")
    kinds: set[str] = set()
    for seed in range(12):
        who = (target, None, random.Random(seed), 60.0)
        for visitor in (Reader(who, ("/",), solver=None), StatusPoller(*who), Visitor(*who)):
            request = visitor.client(5).build_request("GET", "/public")
            headers = [(name.lower(), value) for name, value in request.headers.raw]
            assert fingerprint(headers) == ("browser", False), headers
            assert request.headers["Host"] == "127.0.0.1:8000"
            kinds.add(request.headers["Accept"].split(",")[0])
    assert kinds == {"text/html", "application/json"}  # pages for readers, JSON for the API
