"""Crash safety (issue 2): SIGKILL the server while clients post, restart it, lose nothing.

Every post acknowledged with a 2xx must exist after the restart, and fan-out cut short by the
kill must be finished by the restarted server (posts record ``fanout_state``; ``Fanout.start``
resumes the pending ones). The poster gets a few thousand extra followers, inserted straight into
the database, so that delivery lags behind posting and the kill lands with fan-out unfinished.
"""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from bench.foundation_data import add_followers
from roost.store.db import make_engine
from roost.store.tables import statuses

pytestmark = pytest.mark.slow

FOLLOWERS_VIA_API = 3
EXTRA_FOLLOWERS = 2000  # above fan-out's one-query chunk (1,000): delivered in chunks, lagging
DELIVERY_RATE = 20_000  # feed rows/s assumed when allowing time for the backlog to drain
CLIENTS = 6
POSTING_SECONDS = 3.0
PASSWORD = "crash-test-password"


def _client_token(base: str) -> str:
    app = httpx.post(
        f"{base}/api/v1/apps",
        data={
            "client_name": "crash-test",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow",
        },
    ).json()
    reply = httpx.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read write follow",
        },
    )
    reply.raise_for_status()
    return reply.json()["access_token"]


def _register(base: str, app_token: str, username: str) -> tuple[str, str]:
    """A new account's (id, access token)."""
    reply = httpx.post(
        f"{base}/api/v1/accounts",
        headers={"Authorization": f"Bearer {app_token}"},
        data={
            "username": username,
            "email": f"{username}@crash.test",
            "password": PASSWORD,
            "agreement": "true",
        },
        timeout=30,
    )
    reply.raise_for_status()
    token = reply.json()["access_token"]
    me = httpx.get(
        f"{base}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    return me["id"], token


async def _pending_count(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            query = select(func.count()).where(statuses.c.fanout_state == "pending")
            return await conn.scalar(query)
    finally:
        await engine.dispose()


class Posters:
    """Threads posting as fast as they can; ``acked`` holds the ids the server acknowledged."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token
        self.acked: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(CLIENTS)]

    def _run(self, n: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=10) as client:
            i = 0
            while not self.stop.is_set():
                i += 1
                try:
                    reply = client.post("/api/v1/statuses", data={"status": f"c{n} #{i}"})
                except httpx.HTTPError:
                    return  # the server died mid-request: this post was never acknowledged
                if 200 <= reply.status_code < 300:
                    with self.lock:
                        self.acked.append(reply.json()["id"])

    def __enter__(self) -> Posters:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


def _home_ids(base: str, token: str, wanted: int) -> set[str]:
    """Up to ``wanted`` newest ids of a home timeline, paging with max_id."""
    seen: set[str] = set()
    params: dict[str, str] = {"limit": "40"}
    headers = {"Authorization": f"Bearer {token}"}
    while len(seen) < wanted:
        page = httpx.get(f"{base}/api/v1/timelines/home", params=params, headers=headers).json()
        if not page:
            break
        seen.update(entry["id"] for entry in page)
        params["max_id"] = page[-1]["id"]
    return seen


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return predicate()


def test_acknowledged_posts_and_their_fanout_survive_sigkill(live_server_factory, database_url):
    # Home feeds keep feed_length entries: make room for every post a fast machine gets in
    # (800 acknowledged, plus those in flight at the kill, pushed the oldest out).
    server = live_server_factory(database_url, ROOST_SHIELD_ENABLED="0", ROOST_FEED_LENGTH="100000")
    base = server.url
    app_token = _client_token(base)
    poster_id, poster_token = _register(base, app_token, "poster")
    followers = [_register(base, app_token, f"reader_{i}") for i in range(FOLLOWERS_VIA_API)]
    for _, token in followers:
        reply = httpx.post(
            f"{base}/api/v1/accounts/{poster_id}/follow",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert reply.status_code == 200, reply.text
    asyncio.run(add_followers(database_url, int(poster_id), EXTRA_FOLLOWERS, "silent_"))

    with Posters(base, poster_token) as posters:
        time.sleep(POSTING_SECONDS)
        server.kill()
    acked = list(posters.acked)
    assert len(acked) >= 5, f"too few posts acknowledged before the kill: {len(acked)}"
    pending = asyncio.run(_pending_count(database_url))
    print(f"acknowledged {len(acked)}, pending at kill {pending}")
    assert pending > 0, "fan-out had caught up before the kill: resumption went untested"

    server.start()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {poster_token}"}) as c:
        missing = [i for i in acked if c.get(f"/api/v1/statuses/{i}").status_code != 200]
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged posts lost: {missing[:5]}"

    allowed = 60 + pending * (EXTRA_FOLLOWERS + FOLLOWERS_VIA_API) / DELIVERY_RATE
    assert _wait_for(lambda: asyncio.run(_pending_count(database_url)) == 0, allowed), (
        "fan-out left pending after the restart"
    )
    for _, token in followers:
        home = _home_ids(base, token, len(acked))
        absent = set(acked) - home
        assert not absent, f"{len(absent)} acknowledged posts missing from a follower's home"
