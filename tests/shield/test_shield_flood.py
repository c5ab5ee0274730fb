"""End to end: a flood from many loopback addresses while signed-in users read and post."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx
import pytest

from roost.domain.signed import mint_token
from roost.shield.testbed import SECRET, ServerProcess

FLOOD_SECONDS = 4.0


async def flooder(port: int, source: str, stats: dict[str, int], until: float) -> None:
    request = b"GET /page?q=%d HTTP/1.1\r\nHost: x\r\n\r\n"
    n = 0
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(source, 0)
            )
        except OSError:
            stats["refused_connections"] += 1
            await asyncio.sleep(0.05)
            continue
        try:
            while time.monotonic() < until:
                n += 1
                writer.write(request % n)
                data = await asyncio.wait_for(reader.read(4096), 2)
                if not data:
                    stats["closed"] += 1
                    break
                for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", data):
                    stats[code.decode()] = stats.get(code.decode(), 0) + 1
        except (OSError, TimeoutError):
            stats["closed"] += 1
        writer.close()


async def legit_user(url: str, account: int, stats: dict[str, list], until: float) -> None:
    token = mint_token(SECRET, account, int(time.time()) - 365 * 86400)
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=5) as client:
        n = 0
        while time.monotonic() < until:
            n += 1
            started = time.monotonic()
            try:
                if n % 5 == 0:
                    response = await client.post("/api/v1/statuses", data={"status": f"{n}"})
                    stats["posts_ok"].append(response.status_code == 200)
                else:
                    response = await client.get("/api/v1/timelines/home")
                stats["codes"].append(response.status_code)
            except httpx.HTTPError:
                stats["codes"].append(0)
            stats["latency"].append(time.monotonic() - started)
            await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_signed_in_users_are_served_through_a_flood(tmp_path: Path) -> None:
    server = ServerProcess(
        str(tmp_path / "server.log"),
        "--cost-ms",
        "2",
        ROOST_SHIELD_MODE_FILE=str(tmp_path / "mode"),
        ROOST_SHIELD_IP_RATE="5",
        ROOST_SHIELD_IP_BURST="10",
        ROOST_SHIELD_ADMIN_NETWORKS="127.0.0.1/32",
        ROOST_SHIELD_ATTACK_RPS="100",
    ).wait_ready()
    try:
        until = time.monotonic() + FLOOD_SECONDS
        wide: dict[str, int] = {"closed": 0, "refused_connections": 0}
        heavy: dict[str, int] = {"closed": 0, "refused_connections": 0}
        legit: dict[str, list] = {"codes": [], "latency": [], "posts_ok": []}
        # 150 addresses each under its own limit (what per-IP limits cannot stop), and
        # 10 addresses with 5 connections each, far over theirs.
        wide_sources = [f"127.1.{a}.{b}" for a in range(3) for b in range(1, 51)]
        heavy_sources = [f"127.2.0.{b}" for b in range(1, 11)] * 5
        tasks = [flooder(server.port, s, wide, until) for s in wide_sources]
        tasks += [flooder(server.port, s, heavy, until) for s in heavy_sources]
        tasks += [legit_user(server.url, account, legit, until) for account in range(1, 6)]
        await asyncio.gather(*tasks)
        ok = legit["codes"].count(200)
        assert len(legit["codes"]) >= 30
        assert ok / len(legit["codes"]) >= 0.99, legit["codes"]
        latency = sorted(legit["latency"])
        # loose bounds: the 2 cores are shared with the flood generator and other test runs;
        # undefended, the same flood puts signed-in users' median at several seconds.
        assert latency[len(latency) // 2] < 0.5, latency
        assert latency[-1] < 3.0, latency
        heavy_served = heavy.get("200", 0)
        heavy_refused = sum(v for k, v in heavy.items() if k in ("429", "503"))
        # each heavy address got no more than its GCRA allowance (burst 10 + 5/s), the rest refused
        assert heavy_served <= 10 * (10 + 5 * (FLOOD_SECONDS + 1)), heavy
        assert heavy_refused > 0, heavy
        assert sum(v for k, v in wide.items() if k in ("429", "503")) > 0, wide
        # every post the server said it accepted is there (admitted requests complete)
        auth = {"authorization": "Bearer " + mint_token(SECRET, 99, 0)}
        async with httpx.AsyncClient(base_url=server.url, headers=auth) as admin:
            stored = int((await admin.get("/posts")).text)
            view = (await admin.get("/-/shield")).json()
        assert stored == sum(legit["posts_ok"]) > 0
        assert view["attack_state"] != "calm" or view["recent_events"], view
    finally:
        server.stop()
