"""The in-process caches never serve a page or a token older than this process's last write."""

from __future__ import annotations

import asyncio

import httpx

from roost.api import cache
from roost.app import create_site, start
from roost.services import timelines
from tests.support.settings import make_settings


def test_pages_follow_every_write(api):
    alice, bob = api.user("alice"), api.user("bob")
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    post = api.status(alice, "cached?")
    api.drain()
    first = api.client.get("/api/v1/timelines/home", headers=bob.headers).json()
    again = api.client.get("/api/v1/timelines/home", headers=bob.headers).json()
    assert first == again and first[0]["favourites_count"] == 0
    api.client.post(f"/api/v1/statuses/{post['id']}/favourite", headers=bob.headers)
    after = api.client.get("/api/v1/timelines/home", headers=bob.headers).json()
    assert after[0]["favourites_count"] == 1 and after[0]["favourited"] is True
    newer = api.status(alice, "fresh")
    api.drain()
    assert (
        api.client.get("/api/v1/timelines/home", headers=bob.headers).json()[0]["id"]
        == (newer["id"])
    )
    # pages are kept per token: alice's view of the same URL is her own
    mine = api.client.get("/api/v1/timelines/home", headers=alice.headers).json()
    assert mine[1]["favourited"] is False


def test_tokens_follow_revocation_and_suspension(sqlite_api):
    alice = sqlite_api.user("alice")
    for _ in range(2):  # the second answer comes from the cache
        assert (
            sqlite_api.client.get("/api/v1/timelines/home", headers=alice.headers).status_code
            == 200
        )
    app = sqlite_api.default_app
    sqlite_api.client.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"],
              "token": alice.token},
    )  # fmt: skip
    assert sqlite_api.client.get("/api/v1/timelines/home", headers=alice.headers).status_code == 401


def test_entries_expire_and_are_bounded(monkeypatch):
    generation = cache.Generation()
    store = cache.Cache(generation, ttl=60)
    store.put("a", generation.value, 1)
    assert store.get("a") == 1
    generation.bump()
    assert store.get("a") is None  # a commit invalidates
    stale = generation.value
    generation.bump()
    store.put("b", stale, 2)
    assert store.get("b") is None  # read before a commit: never cached as current
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    for key in range(5):
        store.put(key, generation.value, key)
    assert len(store.entries) == 3 and store.get(0) is None and store.get(4) == 4
    monkeypatch.setattr(cache, "MAX_BYTES", 100)
    for key in range(5):
        store.put(key, generation.value, key, size=40)
    assert list(store.entries) == [3, 4] and store.size == 80  # bounded in bytes too
    expiring = cache.Cache(generation, ttl=-1)
    expiring.put("c", generation.value, 3)
    assert expiring.get("c") is None  # past its deadline


async def test_concurrent_misses_render_once(sqlite_url, monkeypatch):
    runs = []
    real = timelines.public

    async def counted(conn, page, *rest):
        runs.append(page)
        await asyncio.sleep(0.05)  # Kept: a slow render, so every request arrives meanwhile
        return await real(conn, page, *rest)

    monkeypatch.setattr(timelines, "public", counted)
    site = create_site(make_settings(sqlite_url))
    await start(site.state.ctx)
    try:
        transport = httpx.ASGITransport(app=site)
        async with httpx.AsyncClient(transport=transport, base_url="http://roost.test") as c:
            answers = await asyncio.gather(*(c.get("/api/v1/timelines/public") for _ in range(10)))
        assert {a.status_code for a in answers} == {200}
        assert len(runs) == 1
    finally:
        await site.state.ctx.close()


def test_repeated_reads_are_answered_before_the_router(api, monkeypatch):
    from roost.api import endpoint

    alice, bob = api.user("alice"), api.user("bob")
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    posts = [api.status(alice, f"post {n}") for n in range(3)]
    api.client.post(f"/api/v1/statuses/{posts[-1]['id']}/favourite", headers=bob.headers)
    api.drain()
    api.client.cookies.clear()
    url = "/api/v1/timelines/home?limit=2"
    first = api.client.get(url, headers=bob.headers)
    full_path = []
    real = endpoint._run_cached

    async def counted(*args, **kw):
        full_path.append(args)
        return await real(*args, **kw)

    monkeypatch.setattr(endpoint, "_run_cached", counted)
    again = api.client.get(url, headers=bob.headers)
    assert not full_path  # the front door answered
    assert again.content == first.content and again.headers["link"] == first.headers["link"]
    assert again.headers["content-type"] == first.headers["content-type"]
    # another host gets its own links; a cookie or an Origin takes the whole way (CORS headers)
    other = api.client.get(url, headers={**bob.headers, "host": "other.test"})
    assert "other.test" in other.headers["link"]
    cors = api.client.get(url, headers={**bob.headers, "origin": "https://app.example"})
    assert cors.headers["access-control-allow-origin"] == "*" and len(full_path) == 2
    # someone else's token, or none, never gets bob's page
    assert first.json()[0]["favourited"] is True
    assert api.client.get(url, headers=alice.headers).json()[0]["favourited"] is False
    assert api.client.get(url).status_code == 401
    # a write empties the front door too
    api.status(alice, "newest")
    api.drain()
    newest = api.client.get(url, headers=bob.headers).json()
    assert newest[0]["content"] == "<p>newest</p>"
