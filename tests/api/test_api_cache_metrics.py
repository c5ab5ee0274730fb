"""The response cache's hits and misses on /metrics, so a steady state can be judged by its hit
rate (bench/steady_state.py reported it as "not exposed" before)."""

from __future__ import annotations

import re

import httpx


def _counter(metrics: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", metrics, re.M)
    assert found, f"{name} missing from /metrics"
    return float(found.group(1))


def test_metrics_count_response_cache_hits_and_misses(live_server_factory, tmp_path):
    server = live_server_factory(
        ROOST_SHIELD_MODE="off", ROOST_SHIELD_MODE_FILE=str(tmp_path / "mode")
    )
    with httpx.Client(base_url=server.url, timeout=10) as client:
        app = client.post(
            "/api/v1/apps",
            data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
        ).json()
        token = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": app["client_id"],
                  "client_secret": app["client_secret"], "scope": "read"},
        ).json()["access_token"]  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"}
        before = client.get("/metrics").text
        for _ in range(3):
            assert client.get("/api/v1/timelines/public", headers=headers).status_code == 200
        after = client.get("/metrics").text
    hits = "roost_api_response_cache_hits_total"
    misses = "roost_api_response_cache_misses_total"
    assert _counter(after, misses) - _counter(before, misses) == 1  # the first read ran
    assert _counter(after, hits) - _counter(before, hits) == 2  # the next two were kept
