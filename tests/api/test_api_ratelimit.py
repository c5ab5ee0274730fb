"""Through the shield: Mastodon's X-RateLimit-* headers on API answers, and 429 in API shape."""

from __future__ import annotations

from datetime import datetime

import httpx


def test_rate_limit_headers_and_429(live_server_factory, tmp_path):
    server = live_server_factory(
        ROOST_SHIELD_IP_RATE="1",
        ROOST_SHIELD_IP_BURST="5",
        ROOST_SHIELD_MODE="off",
        ROOST_SHIELD_MODE_FILE=str(tmp_path / "mode"),
    )
    with httpx.Client(base_url=server.url, timeout=10) as client:
        first = client.get("/api/v1/timelines/public")
        assert first.status_code == 200
        assert int(first.headers["x-ratelimit-limit"]) >= 1
        assert int(first.headers["x-ratelimit-remaining"]) >= 0
        reset = first.headers["x-ratelimit-reset"]
        datetime.fromisoformat(reset.replace("Z", "+00:00"))
        statuses = [client.get("/api/v1/timelines/public") for _ in range(15)]
    refused = [r for r in statuses if r.status_code == 429]
    assert refused, [r.status_code for r in statuses]
    assert "retry-after" in refused[0].headers
    body = refused[0].json()
    assert isinstance(body["error"], str) and body["error"]
