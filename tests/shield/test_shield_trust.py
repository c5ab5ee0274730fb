"""The shield's trust boundaries (issue 12): who the client is, where a browser is sent back
to, which forms check passwords, and limits that are fair to people and not to the demoted."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from roost.shield.challenge import solve
from tests.shield.test_shield_layer import BROWSER, client, make, token


async def test_only_the_proxys_own_header_names_the_client(tmp_path: Path) -> None:
    """Issue 12, finding 1: behind a proxy that rewrites X-Forwarded-For but passes other
    headers through, a client named itself 127.0.0.2 in `Forwarded` and reached the admin
    routes. Only X-Forwarded-For is read; the site sees the address the shield judged."""
    seen: list[str] = []

    async def site(scope, receive, send):
        seen.append(scope["client"][0])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    admin = ["127.0.0.0/8"]  # as the reviewer's server had it
    shield = make(tmp_path, app=site, trusted_proxies=["127.0.0.1/32"], admin_networks=admin)
    spoof = {"x-forwarded-for": "198.51.100.50", "forwarded": "for=127.0.0.2", "x-real-ip": "::1"}
    async with client(shield, ip="127.0.0.1") as c:
        assert (await c.get("/-/shield", headers=spoof)).status_code == 404
        assert (await c.get("/metrics", headers=spoof)).status_code == 404
        assert (await c.get("/page", headers=spoof)).status_code == 200
        assert (await c.get("/-/shield", headers={})).status_code == 200  # the proxy itself
    assert seen == ["198.51.100.50"]
    await shield.aclose()


async def test_the_site_without_the_shield_reads_the_same_rule(tmp_path: Path) -> None:
    from roost.shield.network import RealClient

    seen: list[str] = []

    async def site(scope, receive, send):
        seen.append(scope["client"][0])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = RealClient(site, ["127.0.0.1/32"])
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://roost.test") as c:
        await c.get("/", headers={"x-forwarded-for": "203.0.113.4", "forwarded": "for=10.1.1.1"})
        await c.get("/", headers={"forwarded": "for=10.1.1.1"})
    assert seen == ["203.0.113.4", "127.0.0.1"]


async def test_after_the_challenge_the_browser_goes_back_only_to_this_site(tmp_path: Path) -> None:
    """Issue 12, finding 6: `/%09/evil.example/x` came back as `Location: /\\t/evil.example/x`,
    which browsers read as //evil.example/x once they drop the tab."""
    shield = make(tmp_path, mode="on", pow_bits=8, pow_bits_max=10)
    async with client(shield) as c:
        for target in ("/\t/evil.example/x", "/\\evil.example", "//evil.example", "/\n/x"):
            c.cookies.clear()  # the pass from the round before
            page = await c.get("/public", headers=BROWSER)
            challenge = page.headers["x-roost-challenge"]
            form = {"challenge": challenge, "answer": solve(challenge), "next": target}
            c.cookies.clear()
            answered = await c.post("/-/shield/verify", data=form, headers=BROWSER)
            assert answered.status_code == 303
            assert answered.headers["location"] == "/", target
    await shield.aclose()


@pytest.mark.parametrize("path", ["/oauth/authorize", "/oauth/authorize/"])
async def test_the_consent_page_sign_in_is_a_login(tmp_path: Path, path: str) -> None:
    """Issue 12, finding 3: 39 wrong passwords through the consent page all reached the hash."""
    shield = make(tmp_path, ip_rate=1000, ip_burst=1000)
    async with client(shield) as c:
        form = {"action": "login", "username": "alice", "password": "guess"}
        statuses = [(await c.post(path, data=form)).status_code for _ in range(12)]
        assert statuses.count(429) >= 2
    await shield.aclose()


async def test_one_account_may_post_as_mastodon_allows_in_calm(tmp_path: Path) -> None:
    """Issue 12: 45 statuses in a row from one account got a 429 on about the 21st; Mastodon
    allows 300 in 3 hours. Headers count posts, and a refusal says Remaining 0."""
    shield = make(tmp_path)
    auth = {"authorization": "Bearer " + token(7)}
    async with client(shield) as c:
        answers = [
            await c.post("/api/v1/statuses", data={"status": "hi"}, headers=auth) for _ in range(45)
        ]
        assert [a.status_code for a in answers] == [200] * 45
        limits = {a.headers["x-ratelimit-limit"] for a in answers}
        assert len(limits) == 1, limits  # one figure, not 30 and 60 in turn
        left = [int(a.headers["x-ratelimit-remaining"]) for a in answers]
        assert left == sorted(left, reverse=True) and left[-1] < left[0]
    await shield.aclose()


async def test_a_refusal_says_nothing_remains_in_requests(tmp_path: Path) -> None:
    shield = make(tmp_path, account_rate=0.1, account_burst=9)  # three posts (cost 3 each)
    auth = {"authorization": "Bearer " + token(8)}
    async with client(shield) as c:
        posts = [
            await c.post("/api/v1/statuses", data={"status": "hi"}, headers=auth) for _ in range(4)
        ]
    assert [p.status_code for p in posts] == [200, 200, 200, 429]
    assert [p.headers["x-ratelimit-remaining"] for p in posts] == ["2", "1", "0", "0"]
    assert {p.headers["x-ratelimit-limit"] for p in posts} == {"3"}
    await shield.aclose()


async def test_a_demoted_account_gets_no_fresh_allowance(tmp_path: Path) -> None:
    """Issue 12: after ignoring 12 429s an account fell back to per-address buckets that
    started full, and posts 33-40 were accepted after 21-32 were refused."""
    shield = make(tmp_path, account_rate=0.01, account_burst=60, ip_rate=100, ip_burst=1000)
    auth = {"authorization": "Bearer " + token(9)}
    async with client(shield) as c:
        statuses = [
            (await c.post("/api/v1/statuses", data={"status": "x"}, headers=auth)).status_code
            for _ in range(60)
        ]
    first_refusal = statuses.index(429)
    assert all(s in (429, 403) for s in statuses[first_refusal:]), statuses  # 403: then blocked
    await shield.aclose()


async def test_credentials_in_other_scripts_letters_are_strangers_not_a_crash(tmp_path: Path):
    """Issue 12: hmac.compare_digest raised TypeError on a non-ASCII str, and the shield reads
    every token's and pass cookie's MAC before anything else runs."""
    shield = make(tmp_path, mode="on", pow_bits=8, pow_bits_max=10)
    async with client(shield) as c:
        forged = {"Authorization": "Bearer r1.42.1.abc.\u00e9\u00e9".encode()}
        assert (await c.get("/api/v1/timelines/home", headers=forged)).status_code < 500
        cookie = {**BROWSER, "Cookie": "roost_pass=p1.p.1.2.x.\u00e9".encode()}
        assert (await c.get("/public", headers=cookie)).status_code < 500
        challenge = "c1.8.9999999999.nonce.\u00e9"
        form = {"challenge": challenge, "answer": "1", "next": "/"}
        assert (await c.post("/-/shield/verify", data=form, headers=BROWSER)).status_code < 500
    await shield.aclose()
