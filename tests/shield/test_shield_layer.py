"""The ASGI layer in-process: limits and headers, identity, challenge flow, brownout, reporting."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from roost.config import Settings, ShieldSettings
from roost.domain.signed import mint_token
from roost.shield.challenge import solve
from roost.shield.layer import Shield
from roost.shield.report import report
from roost.shield.testbed import ToyApp
from tests.support.waiting import wait_for

SECRET = b"k" * 32
BROWSER = {
    "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "accept": "text/html",
    "accept-language": "en",
    "accept-encoding": "gzip",
}


def make(tmp_path: Path, app=None, **shield) -> Shield:
    shield.setdefault("mode_file", str(tmp_path / "mode"))
    settings = Settings.from_env({}, shield=ShieldSettings(**shield))
    return Shield(app or ToyApp(cost_ms=0), settings, secret=SECRET)


def client(shield: Shield, ip: str = "198.51.100.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=shield, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://roost.test")


def token(account: int = 42, age_days: float = 400) -> str:
    return mint_token(SECRET, account, int(time.time() - age_days * 86400))


async def test_rate_limit_headers_then_429_with_retry_after(tmp_path: Path) -> None:
    shield = make(tmp_path, ip_rate=1, ip_burst=3)
    async with client(shield) as c:
        first = await c.get("/public")
        assert first.status_code == 200
        assert first.headers["x-ratelimit-limit"] == "3"
        assert first.headers["x-ratelimit-remaining"] == "2"
        assert re.match(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first.headers["x-ratelimit-reset"]
        )
        statuses = [(await c.get("/public")).status_code for _ in range(4)]
        assert statuses == [200, 200, 429, 429]
        refused = await c.get("/api/v1/timelines/public")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]
    await shield.aclose()


async def test_accounts_are_limited_by_account_not_address(tmp_path: Path) -> None:
    shield = make(tmp_path, ip_rate=1, ip_burst=1, account_rate=100, account_burst=100)
    async with client(shield) as c:
        assert (await c.get("/a")).status_code == 200
        assert (await c.get("/a")).status_code == 429  # the address is now penalised
        auth = {"authorization": "Bearer " + token()}
        assert [(await c.get("/home", headers=auth)).status_code for _ in range(5)] == [200] * 5
    await shield.aclose()


async def test_forged_token_is_anonymous(tmp_path: Path) -> None:
    shield = make(tmp_path, ip_rate=1, ip_burst=1, account_rate=100, account_burst=100)
    forged = token()[:-2] + "xx"
    async with client(shield) as c:
        auth = {"authorization": "Bearer " + forged}
        assert [(await c.get("/home", headers=auth)).status_code for _ in range(2)] == [200, 429]
    await shield.aclose()


async def test_forwarded_for_ignored_from_untrusted_peers(tmp_path: Path) -> None:
    shield = make(tmp_path, ip_rate=1, ip_burst=1)
    async with client(shield) as c:
        assert (await c.get("/", headers={"x-forwarded-for": "203.0.113.1"})).status_code == 200
        spoof = {"x-forwarded-for": "203.0.113.2", "forwarded": "for=203.0.113.3"}
        assert (await c.get("/", headers=spoof)).status_code == 429
        assert (await c.get("/", headers={"x-forwarded-for": "garbage, ::zz"})).status_code == 429
    await shield.aclose()


async def test_forwarded_for_believed_from_trusted_proxy(tmp_path: Path) -> None:
    shield = make(tmp_path, ip_rate=1, ip_burst=1, trusted_proxies=["10.0.0.0/8"])
    async with client(shield, ip="10.0.0.5") as c:
        for n in range(3):
            headers = {"x-forwarded-for": f"203.0.113.{n}, 10.0.0.9"}
            assert (await c.get("/", headers=headers)).status_code == 200
        bad = {"x-forwarded-for": "not-an-ip"}  # junk from the proxy: the proxy's own address
        assert (await c.get("/", headers=bad)).status_code == 200
        assert (await c.get("/", headers=bad)).status_code == 429
    await shield.aclose()


async def test_login_class_has_its_own_tight_limit(tmp_path: Path) -> None:
    shield = make(tmp_path, ip_rate=1000, ip_burst=1000)
    async with client(shield) as c:
        statuses = [(await c.post("/oauth/token", data={"x": "y"})).status_code for _ in range(12)]
        assert statuses.count(429) >= 2
        assert (await c.get("/page")).status_code == 200  # reads still fine
    await shield.aclose()


async def test_challenge_flow_under_attack(tmp_path: Path) -> None:
    shield = make(tmp_path, mode="on", pow_bits=8, pow_bits_max=10)
    async with client(shield) as c:
        page = await c.get("/public/local?x=1", headers=BROWSER)
        assert page.status_code == 403
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert '<script src="/-/shield/challenge.js">' in page.text
        assert "<script>" not in page.text and "JavaScript" in page.text
        challenge = page.headers["x-roost-challenge"]
        form = {"challenge": challenge, "answer": solve(challenge), "next": "/public/local?x=1"}
        c.cookies.clear()
        answered = await c.post("/-/shield/verify", data=form, headers=BROWSER)
        assert answered.status_code == 303
        assert answered.headers["location"] == "/public/local?x=1"
        assert (await c.get("/public/local", headers=BROWSER)).status_code == 200
        replay = await c.post("/-/shield/verify", data=form, headers=BROWSER)
        assert replay.status_code == 403 and "replayed" in replay.text
        script = await c.get("/-/shield/challenge.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    await shield.aclose()


async def test_wrong_answers_and_forged_passes_are_refused_and_counted(tmp_path: Path) -> None:
    shield = make(tmp_path, mode="on", pow_bits=12)
    async with client(shield) as c:
        page = await c.get("/", headers=BROWSER)
        form = {"challenge": page.headers["x-roost-challenge"], "answer": "x", "next": "//evil"}
        assert (await c.post("/-/shield/verify", data=form)).status_code == 403
        assert (await c.post("/-/shield/verify", content=b"\xff" * 5000)).status_code == 400
        c.cookies.set("roost_pass", "p1.p.0.9999999999.id.forgedmac")
        again = await c.get("/", headers=BROWSER)
        assert again.status_code == 403
    assert shield.rep_ip.suspicion("198.51.100.7", shield.clock()) > 0.3
    await shield.aclose()


async def test_open_redirect_refused(tmp_path: Path) -> None:
    shield = make(tmp_path, mode="on", pow_bits=4, pow_bits_max=4)
    async with client(shield) as c:
        page = await c.get("/", headers=BROWSER)
        challenge = page.headers["x-roost-challenge"]
        form = {"challenge": challenge, "answer": solve(challenge), "next": "//evil.example/"}
        answered = await c.post("/-/shield/verify", data=form, headers=BROWSER)
        assert answered.headers["location"] == "/"
    await shield.aclose()


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/health"),
        ("GET", "/api/v1/instance"),
        ("GET", "/.well-known/webfinger"),
        ("GET", "/robots.txt"),
        ("GET", "/login"),
        ("POST", "/oauth/token"),
        ("GET", "/api/v1/timelines/public"),
    ],
)
async def test_never_challenged(tmp_path: Path, method: str, path: str) -> None:
    shield = make(tmp_path, mode="on")
    async with client(shield) as c:
        response = await c.request(method, path, headers=BROWSER)
        assert response.status_code == 200
    await shield.aclose()


@pytest.mark.parametrize(
    ("agent", "path", "challenged"),
    [
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "/@alice",
            False,
        ),
        (
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "/@alice/1234",
            False,
        ),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "/@alice/1234", False),
        ("Mastodon/4.3.0 (http.rb/5.2.0; +https://mastodon.social/)", "/@alice", False),
        ("facebookexternalhit/1.1", "/public", True),  # only the pages with OpenGraph meta
        ("facebookexternalhit/1.1", "/@alice/1234/reblogs", True),
        (BROWSER["user-agent"], "/@alice", True),  # a browser solves the challenge instead
    ],
)
async def test_link_preview_fetchers_are_not_challenged_on_the_pages_they_preview(
    tmp_path: Path, agent: str, path: str, challenged: bool
) -> None:
    shield = make(tmp_path, mode="on")
    async with client(shield) as c:
        response = await c.get(path, headers={**BROWSER, "user-agent": agent})
        assert response.status_code == (403 if challenged else 200)
    await shield.aclose()


async def test_signed_in_users_are_never_challenged(tmp_path: Path) -> None:
    shield = make(tmp_path, mode="on")
    async with client(shield) as c:
        auth = {**BROWSER, "authorization": "Bearer " + token()}
        assert (await c.get("/home", headers=auth)).status_code == 200
    await shield.aclose()


async def test_brownout_refuses_search_and_caches_public_pages(tmp_path: Path) -> None:
    calls: list[str] = []
    inner = ToyApp(cost_ms=0)

    async def counting(scope, receive, send):
        if scope["type"] == "http":
            calls.append(scope["path"])
        await inner(scope, receive, send)

    shield = make(tmp_path, counting, mode="on")
    async with client(shield) as c:
        search = await c.get("/api/v2/search?q=x")
        assert search.status_code == 503 and "search" in search.json()["error"]
        assert search.headers["x-roost-brownout"] == "1"  # shed on purpose, not broken
        deep = await c.get("/api/v1/timelines/public?max_id=123")
        assert deep.status_code == 503 and deep.headers["x-roost-brownout"] == "1"
        first = await c.get("/api/v1/timelines/public")
        second = await c.get("/api/v1/timelines/public")
        assert first.status_code == second.status_code == 200
        assert second.headers.get("x-roost-cache") == "brownout"
        assert calls.count("/api/v1/timelines/public") == 1
    await shield.aclose()


async def test_report_api_feeds_reputation(tmp_path: Path) -> None:
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        for _ in range(20):
            report(scope, "failed_login")
        report(scope, "no-such-event")  # ignored, never an error
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    shield = make(tmp_path, app)
    async with client(shield) as c:
        assert (await c.post("/login")).status_code == 401
    assert shield.rep_ip.suspicion("198.51.100.7", shield.clock()) > 0.9
    report({"type": "http"}, "failed_login")  # no shield in scope: ignored
    await shield.aclose()


async def test_a_report_names_the_account_that_asked(tmp_path: Path) -> None:
    """Who is reported is worked out when the app reports, from the scope the layer judged."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        for _ in range(4):
            report(scope, "failed_login")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    shield = make(tmp_path, app, trusted_proxies=["10.0.0.0/8"])
    async with client(shield, ip="10.0.0.5") as c:
        auth = {"authorization": "Bearer " + token(77), "x-forwarded-for": "203.0.113.4"}
        assert (await c.get("/api/v1/timelines/home", headers=auth)).status_code == 200
    now = shield.clock()
    assert shield.rep_account.suspicion("77", now) > 0.3
    assert shield.rep_ip.suspicion("203.0.113.4", now) > 0.3  # the client, not its proxy
    assert shield.rep_ip.suspicion("10.0.0.5", now) == 0.0
    await shield.aclose()


async def test_admin_endpoints_only_for_admin_networks(tmp_path: Path) -> None:
    shield = make(tmp_path)
    async with client(shield) as outsider:
        assert (await outsider.get("/metrics")).status_code == 404
        assert (await outsider.get("/-/shield")).status_code == 404
    async with client(shield, ip="127.0.0.1") as admin:
        await admin.get("/x")
        metrics = await admin.get("/metrics")
        assert "roost_shield_requests_total" in metrics.text
        view = (await admin.get("/-/shield")).json()
        assert view["mode"] == "auto" and "top_prefixes" in view
    await shield.aclose()


async def test_websockets_pass_through_and_lifespan_is_forwarded(tmp_path: Path) -> None:
    seen: list[str] = []

    async def app(scope, receive, send):
        seen.append(scope["type"])
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": 1000})

    shield = make(tmp_path, app)
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "websocket.connect"}

    scope = {
        "type": "websocket",
        "path": "/api/v1/streaming",
        "headers": [],
        "client": ("198.51.100.9", 1),
        "query_string": b"",
    }
    await shield(scope, receive, send)
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"]
    assert shield.admission.inflight == 0
    await shield.aclose()


async def test_waiting_room_pass_admits_without_javascript(tmp_path: Path) -> None:
    shield = make(tmp_path, mode="on")
    async with client(shield) as c:
        page = await c.get("/public", headers=BROWSER)
        assert page.status_code == 403 and 'http-equiv="refresh"' in page.text
        assert "roost_pass" in c.cookies
        early = await c.get("/public", headers=BROWSER)  # too soon: challenged again, not blamed
        assert early.status_code == 403
        assert shield.rep_ip.suspicion("198.51.100.7", shield.clock()) == 0.0
        waiting = c.cookies["roost_pass"]
    from roost.shield import challenge

    claims, why = challenge.check_pass(
        SECRET, waiting, "198.51.100.0/24", BROWSER["user-agent"], time.time() + 9
    )
    assert why == "ok" and claims.kind == "w"  # valid after WAIT_SECONDS (checked, not slept)
    await shield.aclose()


async def test_newcomers_yield_to_established_sources_under_overload(tmp_path: Path) -> None:
    from roost.shield.identity import Credentials

    clock = [1000.0]
    settings = Settings.from_env({}, shield=ShieldSettings(mode_file=str(tmp_path / "mode")))
    shield = Shield(ToyApp(cost_ms=0), settings, secret=SECRET, clock=lambda: clock[0])
    anonymous = Credentials(0, 0, False, "", "")
    scope = {"headers": []}
    regular, _, _ = shield._subject(scope, anonymous, "198.51.100.1", "198.51.100.0/24", clock[0])
    assert regular.klass == 3
    clock[0] += 120  # a minute later, requests queue (the server is full)
    shield.admission._heap.append(object())  # a waiter (placeholder)
    known, _, _ = shield._subject(scope, anonymous, "198.51.100.1", "198.51.100.0/24", clock[0])
    fresh, _, _ = shield._subject(scope, anonymous, "203.0.113.9", "203.0.113.0/24", clock[0])
    assert (known.klass, fresh.klass) == (3, 4)
    shield.admission._heap.clear()
    await shield.aclose()


async def test_signed_in_users_keep_search_under_attack_until_overload(tmp_path: Path) -> None:
    shield = make(tmp_path, mode="on")
    async with client(shield) as c:
        auth = {"authorization": "Bearer " + token()}
        assert (await c.get("/api/v2/search?q=x", headers=auth)).status_code == 200
        assert (await c.get("/api/v2/search?q=x")).status_code == 503
    await shield.aclose()


async def test_refusals_speak_plainly_in_the_sites_look(tmp_path: Path) -> None:
    """A browser gets a page in the site's look, in plain words; an API client gets JSON."""
    settings = Settings.from_env(
        {"ROOST_INSTANCE_NAME": "Nest", "ROOST_STATUS_PAGE_URL": "https://status.nest.test"},
        shield=ShieldSettings(mode_file=str(tmp_path / "mode"), ip_rate=1, ip_burst=1),
    )
    shield = Shield(ToyApp(cost_ms=0), settings, secret=SECRET)
    async with client(shield) as c:
        await c.get("/public", headers=BROWSER)
        refused = await c.get("/public", headers=BROWSER)
        page = refused.text
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("text/html")
        assert "<title>Slow down a little · Nest</title>" in page
        assert '<a class="brand" href="/">Nest</a>' in page  # the site's header and footer
        assert '<a href="https://status.nest.test">service status</a>' in page
        assert '<link rel="stylesheet" href="/static/roost.css">' in page
        assert f"Please try again in {refused.headers['retry-after']} second" in page
        assert 'href="/login"' in page  # an anonymous reader is told signing in helps
        assert "Retry-After" not in page and "Too Many Requests" not in page
        api = await c.get("/api/v1/timelines/public")
        assert api.status_code == 429 and "Retry-After" in api.json()["error"]
    await shield.aclose()


async def test_signed_in_people_are_not_told_to_log_in() -> None:
    from roost.shield.responses import RefusalPages

    pages = RefusalPages("Roost", "http://status.test")
    busy = pages.page(503, retry_after=2, signed_in=True).decode()
    assert "<h1>Roost is very busy</h1>" in busy and "Please try again in 2 seconds." in busy
    assert 'href="/login"' not in busy
    assert 'href="/login"' in pages.page(503, retry_after=2).decode()
    hostile = RefusalPages('<script>"x"</script>', 'javascript:"alert(1)"').page(429, "<b>no</b>")
    assert b"<script>" not in hostile and b"<b>" not in hostile and b'"alert' not in hostile


async def test_open_web_streams_hold_no_request_slot(tmp_path: Path) -> None:
    """A tab's live stream (/web/stream) is a stream, like the API's: once its headers are sent
    it frees its admission slot, so many open tabs never crowd out page loads."""
    import asyncio

    from roost.shield.endpoints import Endpoint, classify

    assert classify("GET", "/web/stream") is Endpoint.STREAMING
    hang = asyncio.Event()
    open_streams: list[dict] = []

    async def site(scope: dict, receive, send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if scope["path"] == "/web/stream":
            await send({"type": "http.response.body", "body": b":\n\n", "more_body": True})
            open_streams.append(scope)
            await hang.wait()
        await send({"type": "http.response.body", "body": b"ok"})

    shield = make(tmp_path, app=site, concurrency_initial=4, concurrency_max=4, queue_max=0)
    transport = httpx.ASGITransport(app=shield, client=("198.51.100.8", 40000))
    streams = []
    async with httpx.AsyncClient(transport=transport, base_url="http://roost.test") as c:
        for n in range(12):  # three times the concurrency limit
            headers = {**BROWSER, "authorization": "Bearer " + token(100 + n)}
            streams.append(asyncio.create_task(c.get("/web/stream", headers=headers)))
        await wait_for(lambda: len(open_streams) == 12, "twelve streams open")
        assert shield.admission.inflight == 0
        assert (await c.get("/public", headers=BROWSER)).status_code == 200
        hang.set()
        await asyncio.gather(*streams)
    await shield.aclose()


async def test_shed_anonymous_readers_get_a_recent_copy_instead_of_503(tmp_path: Path) -> None:
    from roost.shield.admission import Shed

    shield = make(tmp_path, ToyApp(cost_ms=0))
    admission = shield.admission
    real_admit = admission.admit_now
    full = [False]

    async def refuse(klass, rank=0.0):
        raise Shed("full")

    admission.acquire = refuse
    admission.admit_now = lambda klass, rank=0.0: not full[0] and real_admit(klass, rank)
    async with client(shield) as c:
        assert (await c.get("/public/local")).status_code == 200  # calm: nothing kept
        full[0] = True
        assert (await c.get("/public/local")).status_code == 503  # shed, and no copy yet
        full[0] = False
        warmed = await c.get("/public/local")  # sheds are recent: this answer is kept
        assert warmed.status_code == 200
        full[0] = True
        copy = await c.get("/public/local")
        assert copy.status_code == 200 and copy.headers["x-roost-cache"] == "brownout"
        assert copy.content == warmed.content
        auth = {"authorization": "Bearer " + token()}
        signed_in = await c.get("/public/local", headers=auth)
        assert signed_in.status_code == 503  # a signed-in view is never a shared copy
    await shield.aclose()


async def test_a_refused_signed_in_user_keeps_the_connection(tmp_path: Path) -> None:
    """A 503 closes an anonymous client's connection but never a signed-in user's: reconnecting
    would put them back in the listen queue behind the flood (the issue: layer.py closed on any
    status but 429)."""
    import asyncio

    hang = asyncio.Event()
    slow: list[dict] = []

    async def site(scope: dict, receive, send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/slow":
            slow.append(scope)
            await hang.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    one = {"concurrency_initial": 1, "concurrency_min": 1, "concurrency_max": 1}
    shield = make(tmp_path, app=site, **one)
    shield.admission.class1_wait = 0.05  # the real bound is seconds
    async with client(shield) as c:
        busy = asyncio.create_task(c.get("/slow", headers={"authorization": "Bearer " + token(1)}))
        await wait_for(lambda: slow, "the slow request holding the only slot")
        auth = {"authorization": "Bearer " + token(2)}
        signed_in = await c.get("/api/v1/timelines/home", headers=auth)
        anonymous = await c.post("/api/v1/statuses", data={"status": "hi"})
        hang.set()
        assert (await busy).status_code == 200
    assert signed_in.status_code == 503 and "connection" not in signed_in.headers
    assert anonymous.status_code == 503 and anonymous.headers["connection"] == "close"
    await shield.aclose()


async def test_an_app_launch_fits_in_the_account_burst(tmp_path: Path) -> None:
    """A Mastodon client opening fires 10-20 requests at once: with the default account limit
    (20/s, burst 60) three launches in a row are all served."""
    import asyncio

    shield = make(tmp_path)
    auth = {"authorization": "Bearer " + token(5)}
    async with client(shield) as c:
        for _ in range(3):
            launch = [c.get(f"/api/v1/launch/{n}", headers=auth) for n in range(20)]
            replies = await asyncio.gather(*launch)
            assert [r.status_code for r in replies] == [200] * 20
    await shield.aclose()


@pytest.mark.parametrize(
    "path, accept",
    [
        ("/public", "application/json"),  # an app reading a page's data
        ("/public", "*/*"),  # curl, scripts
        ("/@alice.rss", "text/html"),  # a feed, whatever its reader says it accepts
        ("/tags/news.atom", "application/atom+xml"),
    ],
)
async def test_what_cannot_solve_a_challenge_is_never_sent_one(
    tmp_path: Path, path: str, accept: str
) -> None:
    shield = make(tmp_path, mode="on", ip_rate=1, ip_burst=1)
    async with client(shield) as c:
        headers = {**BROWSER, "accept": accept}
        first = await c.get(path, headers=headers)
        assert first.status_code == 200
        limited = await c.get(path, headers=headers)  # over its rate: told when to come back
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    await shield.aclose()


async def test_a_blocked_client_behind_a_trusted_proxy_is_refused(tmp_path: Path) -> None:
    shield = make(tmp_path, trusted_proxies=["10.0.0.0/8"])
    shield.gate.block("203.0.113.0/24", 60, "operator")
    async with client(shield, ip="10.0.0.5") as c:
        blocked = await c.get("/", headers={"x-forwarded-for": "203.0.113.9"})
        assert blocked.status_code == 403
        other = await c.get("/", headers={"x-forwarded-for": "198.51.100.9"})
        assert other.status_code == 200  # the proxy itself, and everyone else, still served
    await shield.aclose()


async def test_an_upload_waiting_on_its_picture_gives_its_slot_back(tmp_path: Path) -> None:
    """What a handler does after ``give_back`` holds no admission slot (roost.slots)."""
    import asyncio

    from roost.slots import give_back

    seen: dict[str, int] = {}
    proceed = asyncio.Event()

    async def upload_app(scope, receive, send) -> None:
        seen["before"] = shield.admission.inflight
        give_back(scope)
        give_back(scope)  # twice is once
        seen["after"] = shield.admission.inflight
        await proceed.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    shield = make(tmp_path, app=upload_app)
    async with client(shield) as c:
        auth = {"authorization": "Bearer " + token()}
        sent = asyncio.create_task(c.post("/api/v2/media", headers=auth, content=b"x"))
        await wait_for(lambda: "after" in seen, "the upload to give its slot back")
        assert (seen["before"], seen["after"]) == (1, 0)
        proceed.set()
        assert (await sent).status_code == 200
        assert shield.admission.inflight == 0  # not released a second time at the end
    await shield.aclose()
