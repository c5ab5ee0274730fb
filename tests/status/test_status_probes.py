"""Probes as a user: a healthy fake Mastodon passes; every way a target can break is a failed
probe with a reason, never an exception."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from roost.status.probes import CHECKS, Prober
from tests.support.ports import free_port


class FakeMastodon:
    """Just enough of the Mastodon API for the probes, with switches to break it."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.broken: dict[str, Callable[[], httpx.Response]] = {}
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = f"{request.method} {request.url.path}"
        self.calls.append(key)
        if key in self.broken:
            return self.broken[key]()
        if key == "GET /":
            return httpx.Response(200, html="<h1>Roost</h1>")
        if key == "POST /api/v1/apps":
            return httpx.Response(200, json={"client_id": "cid", "client_secret": "cs"})
        if key == "POST /oauth/token":
            form = dict(x.split("=") for x in request.content.decode().split("&"))
            if form.get("password") != "pw" or form.get("client_id") != "cid":
                return httpx.Response(400, json={"error": "invalid_grant"})
            return httpx.Response(200, json={"access_token": "tok", "token_type": "Bearer"})
        if key == "POST /api/v1/statuses":
            assert request.headers["authorization"] == "Bearer tok"
            self.posts.insert(0, {"id": str(len(self.posts) + 1)})
            return httpx.Response(200, json=self.posts[0])
        if key == "GET /api/v1/timelines/home":
            return httpx.Response(200, json=self.posts[:20])
        if key == "GET /api/v1/timelines/public":
            return httpx.Response(200, json=[])
        if key == "GET /api/v2/search":
            return httpx.Response(200, json={"accounts": [], "statuses": [], "hashtags": []})
        if key == "GET /api/v1/streaming/public":
            return httpx.Response(200, content=b":)\n")
        if request.method == "DELETE":
            return httpx.Response(200, json={})
        return httpx.Response(404)


@pytest.fixture
async def fake() -> FakeMastodon:
    return FakeMastodon()


@pytest.fixture
async def prober(fake: FakeMastodon) -> AsyncIterator[Prober]:
    p = Prober(
        "http://site",
        email="probe@x",
        password="pw",
        timeout=1.0,
        transport=httpx.MockTransport(fake),
    )
    yield p
    await p.close()


def by_check(results: list) -> dict:
    return {r.check: r for r in results}


async def test_healthy_site_passes_every_check(prober: Prober, fake: FakeMastodon) -> None:
    results = by_check(await prober.round())
    assert set(results) == set(CHECKS)
    assert all(r.ok for r in results.values()), {k: r.detail for k, r in results.items()}
    assert results["home_timeline"].detail == "read back 1"
    assert {r.component for r in results.values()} == set(CHECKS.values())
    assert "DELETE /api/v1/statuses/1" in fake.calls
    await prober.round()
    assert fake.calls.count("POST /api/v1/apps") == 1  # the app is registered once


async def test_without_probe_account_signed_in_checks_are_skipped(fake: FakeMastodon) -> None:
    p = Prober("http://site", transport=httpx.MockTransport(fake))
    try:
        checks = {r.check for r in await p.round()}
    finally:
        await p.close()
    assert checks == {"home", "public_timeline", "search", "streaming"}


@pytest.mark.parametrize(
    ("key", "response", "failed", "words"),
    [
        ("GET /", lambda: httpx.Response(503, text="busy"), "home", "answered 503"),
        ("GET /", lambda: httpx.Response(200, text=" "), "home", "empty"),
        ("GET /api/v1/timelines/public", lambda: httpx.Response(200, text="<html>"),
         "public_timeline", "not JSON"),
        ("GET /api/v1/timelines/public", lambda: httpx.Response(200, json={"a": 1}),
         "public_timeline", "not a JSON list"),
        ("GET /api/v2/search", lambda: httpx.Response(200, json=[]), "search", "search result"),
        ("GET /api/v1/streaming/public", lambda: httpx.Response(401), "streaming", "401"),
        ("GET /api/v1/streaming/public", lambda: httpx.Response(200), "streaming", "without data"),
        ("POST /oauth/token", lambda: httpx.Response(200, json={}), "sign_in", "access_token"),
        ("POST /api/v1/apps", lambda: httpx.Response(200, json=[]), "sign_in", "client_id"),
        ("POST /api/v1/statuses", lambda: httpx.Response(422, json={}), "post", "422"),
        ("GET /api/v1/timelines/home", lambda: httpx.Response(200, json=[{"id": "9"}]),
         "home_timeline", "missing from the home timeline"),
        ("GET /", lambda: httpx.Response(200, content=b"x" * (2 << 20)), "home", "more than"),
    ],
)  # fmt: skip
async def test_broken_answers_are_failed_probes(
    prober: Prober, fake: FakeMastodon, key: str, response: Callable, failed: str, words: str
) -> None:
    fake.broken[key] = response
    results = by_check(await prober.round())
    assert not results[failed].ok
    assert words in results[failed].detail
    assert all(r.ok for name, r in results.items() if name != failed and name not in _after(failed))


def _after(check: str) -> set[str]:
    """Checks that depend on an earlier one in the signed-in chain."""
    return {"sign_in": {"post", "home_timeline"}, "post": {"home_timeline"}}.get(check, set())


async def test_sign_in_failure_fails_posting_too(prober: Prober, fake: FakeMastodon) -> None:
    fake.broken["POST /oauth/token"] = lambda: httpx.Response(400, json={"error": "invalid_grant"})
    results = by_check(await prober.round())
    assert not results["sign_in"].ok and not results["post"].ok
    assert results["post"].detail == "not signed in"
    assert prober.app is None  # registers again next time


async def test_refused_target_is_failed_probes() -> None:
    p = Prober(f"http://127.0.0.1:{free_port()}", email="a", password="b", timeout=1.0)
    try:
        results = await p.round()
    finally:
        await p.close()
    assert len(results) == 7 and not any(r.ok for r in results)
    assert any("ConnectError" in r.detail for r in results)


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("http://[::1", "Invalid port"),
        ("ftp://site", "use http://host"),
        ("site:8000", "use http://host"),
        ("http://site:99999", "port 99999 is out of range"),
    ],
)
async def test_a_target_that_cannot_be_probed_is_failed_probes(target: str, why: str) -> None:
    """A corrupt target URL is recorded, round after round, never a crash (issue 5)."""
    p = Prober(target, email="probe@x", password="pw")
    try:
        for _ in range(2):
            results = by_check(await p.round())
            assert set(results) == set(CHECKS)
            for r in results.values():
                assert not r.ok and r.detail.startswith(f"invalid target URL: {target!r}")
                assert why in r.detail
    finally:
        await p.close()


async def test_hanging_target_fails_within_the_timeout() -> None:
    held: list[asyncio.StreamWriter] = []

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accept, read nothing, answer nothing

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    p = Prober(f"http://127.0.0.1:{port}", timeout=0.5)
    try:
        started = asyncio.get_running_loop().time()
        results = await p.round()
        elapsed = asyncio.get_running_loop().time() - started
    finally:
        await p.close()
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
    assert elapsed < 2.0
    assert not any(r.ok for r in results)
    assert all(r.latency_ms >= 400 for r in results)


async def test_garbage_speaking_target_is_failed_probes() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)
        writer.write(b"\x00\xffNOT HTTP AT ALL\r\n\r\n" + json.dumps([1]).encode())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    p = Prober(f"http://127.0.0.1:{port}", timeout=1.0)
    try:
        results = await p.round()
    finally:
        await p.close()
        server.close()
        await server.wait_closed()
    assert len(results) == 4 and not any(r.ok for r in results)


def test_our_solver_satisfies_the_shields_checker() -> None:
    """The contract: answers we find are accepted by the shield's own verifier."""
    shield = pytest.importorskip("roost.shield.challenge")
    from roost.status.challenge import bits_of, solve

    puzzle = shield.issue_challenge(b"k" * 32, 10, "127.0.0.0/24", "probe", 1_000.0)
    assert bits_of(puzzle) == 10
    answer = solve(puzzle, 10)
    shield.check_answer(b"k" * 32, puzzle, answer, "127.0.0.0/24", "probe", 1_001.0)


def challenging(fake: FakeMastodon, bits: int) -> Callable[[httpx.Request], httpx.Response]:
    """Wrap the fake site in a shield that challenges GET / until a pass cookie is shown."""
    import hashlib

    from roost.status.challenge import leading_zero_bits

    puzzle = f"c1.{bits}.9999999999.nonce.mac"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/-/shield/verify":
            form = httpx.QueryParams(request.content.decode())
            digest = hashlib.sha256(f"{form['challenge']}:{form['answer']}".encode()).digest()
            if leading_zero_bits(digest) < bits or form["next"] != "/":
                return httpx.Response(403)
            return httpx.Response(303, headers={"set-cookie": "roost_pass=p1.ok; Path=/"})
        if request.url.path == "/" and "roost_pass=p1.ok" not in request.headers.get("cookie", ""):
            return httpx.Response(403, headers={"x-roost-challenge": puzzle}, text="prove it")
        return fake(request)

    return handler


async def test_challenge_is_solved_like_a_browser(fake: FakeMastodon) -> None:
    p = Prober("http://site", transport=httpx.MockTransport(challenging(fake, 8)), timeout=2.0)
    try:
        first = by_check(await p.round())["home"]
        again = by_check(await p.round())["home"]
    finally:
        await p.close()
    assert first.ok and again.ok, first.detail
    assert fake.calls.count("GET /") == 2  # the second round used the pass cookie


async def test_too_hard_a_challenge_is_a_failed_probe(fake: FakeMastodon) -> None:
    p = Prober("http://site", transport=httpx.MockTransport(challenging(fake, 30)), timeout=2.0)
    try:
        home = by_check(await p.round())["home"]
    finally:
        await p.close()
    assert not home.ok and "challenged at 30 bits" in home.detail


async def test_sign_in_is_sparing_and_429_gives_no_verdict(fake: FakeMastodon) -> None:
    p = Prober(
        "http://site",
        email="probe@x",
        password="pw",
        confirm=1,
        transport=httpx.MockTransport(fake),
    )
    try:
        first = by_check(await p.round())
        second = by_check(await p.round())
        assert "sign_in" in first and "sign_in" not in second  # token reused in between
        assert second["post"].ok and second["home_timeline"].ok
        p.signin_every = 0.0
        fake.broken["POST /oauth/token"] = lambda: httpx.Response(429)
        limited = by_check(await p.round())
        assert "sign_in" not in limited and limited["post"].ok  # old token still posts
        p.signin_every = 3600.0
        assert "sign_in" not in by_check(await p.round())  # backs off after a 429
        fake.broken["POST /api/v1/statuses"] = lambda: httpx.Response(401)
        revoked = by_check(await p.round())
        assert not revoked["post"].ok and p.token is None
        del fake.broken["POST /oauth/token"], fake.broken["POST /api/v1/statuses"]
        again = by_check(await p.round())
        assert again["sign_in"].ok and again["post"].ok
    finally:
        await p.close()


async def test_a_failed_post_measures_sign_in_next_round(fake: FakeMastodon) -> None:
    p = Prober(
        "http://site",
        email="probe@x",
        password="pw",
        confirm=1,
        transport=httpx.MockTransport(fake),
    )
    try:
        await p.round()
        fake.broken["POST /api/v1/statuses"] = lambda: httpx.Response(503)
        assert "sign_in" not in by_check(await p.round())
        assert by_check(await p.round())["sign_in"].ok  # measured while posting fails
    finally:
        await p.close()


async def test_sign_in_is_measured_until_recovery_is_confirmed(fake: FakeMastodon) -> None:
    p = Prober("http://site", email="probe@x", password="pw", transport=httpx.MockTransport(fake))
    try:
        signed = ["sign_in" in by_check(await p.round()) for _ in range(4)]
        assert signed == [True, True, True, False]  # confirm=3 in a row, then sparingly
        fake.broken["POST /api/v1/statuses"] = lambda: httpx.Response(503)
        await p.round()
        fake.broken["POST /oauth/token"] = lambda: httpx.Response(503)
        assert not by_check(await p.round())["sign_in"].ok
        del fake.broken["POST /oauth/token"], fake.broken["POST /api/v1/statuses"]
        signed = ["sign_in" in by_check(await p.round()) for _ in range(4)]
        assert signed == [True, True, True, False]
    finally:
        await p.close()


async def test_a_browned_out_feature_is_degraded_not_down(
    prober: Prober, fake: FakeMastodon
) -> None:
    """Under attack the shield sheds search with a marked 503: the site is up, defending."""
    fake.broken["GET /api/v2/search"] = lambda: httpx.Response(
        503, json={"error": "busy"}, headers={"X-Roost-Brownout": "1"}
    )
    results = by_check(await prober.round())
    assert results["search"].ok and results["search"].degraded
    assert "browned out" in results["search"].detail
    fake.broken["GET /api/v2/search"] = lambda: httpx.Response(503, json={"error": "busy"})
    results = by_check(await prober.round())
    assert not results["search"].ok and not results["search"].degraded
