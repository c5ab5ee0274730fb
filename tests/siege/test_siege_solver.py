"""Simulated browsers pass the shield's proof-of-work challenge as its script would."""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import httpx
import pytest

from roost.siege.solver import ShieldPow, _solve

challenge = pytest.importorskip("roost.shield.challenge")
pages = pytest.importorskip("roost.shield.pages")

SECRET = b"k" * 32
AGENT = "Mozilla/5.0 test"
PREFIX = "127.1.2.0/24"


def test_the_local_solver_agrees_with_the_shields_checker() -> None:
    issued = challenge.issue_challenge(SECRET, 12, PREFIX, AGENT, time.time())
    answer = _solve(issued)
    assert challenge.check_answer(SECRET, issued, answer, PREFIX, AGENT, time.time())


class ChallengingSite:
    """An ASGI app that challenges until the pass cookie is shown, built on the shield's helpers."""

    def __init__(self) -> None:
        self.solved = 0

    async def __call__(self, scope: dict, receive, send) -> None:
        headers = dict(scope["headers"])
        if scope["path"] == "/-/shield/verify":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            challenge.check_answer(SECRET, form["challenge"], form["answer"], PREFIX, AGENT, 0)
            self.solved += 1
            cookie = b"roost_pass=ok; Path=/"
            location = form["next"].encode()
            await _reply(send, 303, b"", [(b"location", location), (b"set-cookie", cookie)])
        elif b"roost_pass=ok" in headers.get(b"cookie", b""):
            await _reply(send, 200, b"timeline", [])
        else:
            issued = challenge.issue_challenge(SECRET, 8, PREFIX, AGENT, time.time())
            page = pages.challenge_page(issued, scope["path"])
            await _reply(send, 403, page, [(b"x-roost-challenge", issued.encode())])


async def _reply(send, status: int, body: bytes, headers: list) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def test_a_reader_solves_once_then_keeps_the_pass() -> None:
    site = ChallengingSite()
    transport = httpx.ASGITransport(app=site)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", headers={"User-Agent": AGENT}
    ) as client:
        client.follow_redirects = True
        first = await client.get("/public")
        solver = ShieldPow()
        try:
            solved = await solver.pass_challenge(client, first)
            again = await client.get("/public")
            assert await solver.pass_challenge(client, again) is None
        finally:
            solver.close()
        assert solved is not None and solved.status_code == 200 and solved.text == "timeline"
        assert str(solved.url).endswith("/public")
        assert again.status_code == 200
    assert site.solved == 1
