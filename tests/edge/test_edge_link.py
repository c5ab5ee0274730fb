"""The shield as the edge's brain (roost/shield/edge.py), against a real HAProxy."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

from roost.config import ShieldSettings
from roost.shield.detector import Bucket
from roost.shield.edge import EdgeLink
from roost.shield.gate import Gate
from roost.shield.metrics import ShieldMetrics
from roost.shield.network import parse_networks
from roost.shield.reputation import SUSPICIOUS
from roost.shield.shared import SharedState
from roost.shield.standing import Standing
from tests.edge.conftest import edge_settings


def standing_for(gate: Gate) -> Standing:
    shared = SharedState("", "roost:test:", ShieldMetrics())
    return Standing(ShieldSettings(), gate, shared, parse_networks(["127.0.0.1/32"]))


def map_keys(edge, name: str) -> set[str]:
    lines = edge.call(f"show map {edge.plan.map_path(name)}").splitlines()
    return {line.split()[1] for line in lines if len(line.split()) == 3}


async def sync(link: EdgeLink, gate: Gate, standing: Standing, attack: bool) -> Bucket:
    bucket = Bucket(int(time.monotonic()))
    await link.sync(gate, standing, attack, bucket, time.monotonic())
    return bucket


async def test_decisions_reach_the_edge_and_leave_it(edge_factory, slow_server) -> None:
    edge = edge_factory([slow_server])
    gate = Gate()
    standing = standing_for(gate)
    link = EdgeLink(edge.plan.socket)
    gate.block("203.0.113.0/24", 60, "operator")
    gate.block("198.51.100.7", 60, "reputation")
    now = time.monotonic()
    standing.ip.raise_to("192.0.2.1", SUSPICIOUS + 0.1, now)
    standing.note_address("192.0.2.9", "192.0.2.0/24", "bad_challenge", now, 3)
    for _ in range(4):
        standing.note_account("12345", "rate_limited", now)
        standing.note_account("12345", "failed_login", now)
    await sync(link, gate, standing, attack=True)
    assert link.reachable
    assert map_keys(edge, "blocked") == {"203.0.113.0/24", "198.51.100.7"}
    assert map_keys(edge, "suspects") == {"192.0.2.9"}
    assert map_keys(edge, "accounts") == {"12345"}
    assert "attack 1" in edge.call(f"show map {edge.plan.map_path('mode')}")

    gate.unblock("203.0.113.0/24")
    await sync(link, gate, standing, attack=False)
    assert map_keys(edge, "blocked") == {"198.51.100.7"}
    assert "attack 0" in edge.call(f"show map {edge.plan.map_path('mode')}")


async def test_a_restarted_edge_is_told_everything_again(edge_factory, slow_server) -> None:
    first = edge_factory([slow_server])
    gate = Gate()
    standing = standing_for(gate)
    link = EdgeLink(first.plan.socket)
    gate.block("203.0.113.0/24", 60, "operator")
    await sync(link, gate, standing, attack=False)
    first.stop()
    await sync(link, gate, standing, attack=False)  # unreachable: logged, nothing raised
    assert not link.reachable
    second = edge_factory([slow_server], plan=first.plan)  # same files: its maps start empty
    assert map_keys(second, "blocked") == set()
    await sync(link, gate, standing, attack=False)
    assert link.reachable
    assert map_keys(second, "blocked") == {"203.0.113.0/24"}


async def test_what_the_edge_refused_counts_as_attack_traffic(edge_factory, slow_server) -> None:
    settings = edge_settings(shield=ShieldSettings(ip_rate=1, ip_burst=1))  # 11 in 10 s
    edge = edge_factory([slow_server], settings)
    gate = Gate()
    standing = standing_for(gate)
    link = EdgeLink(edge.plan.socket)
    await sync(link, gate, standing, attack=False)  # the baseline counters

    def hammer() -> list[int]:
        statuses = []
        for _ in range(30):
            with socket.create_connection(
                ("127.0.0.1", edge.port), timeout=5, source_address=("127.66.0.3", 0)
            ) as sock:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n")
                statuses.append(int(sock.recv(4096).split(b" ")[1]))
        return statuses

    statuses = await asyncio.to_thread(hammer)
    assert statuses.count(429) >= 15, statuses
    bucket = await sync(link, gate, standing, attack=False)
    assert bucket.requests >= 15 and bucket.rejected >= 15
    assert standing.ip.suspicion("127.66.0.3", time.monotonic()) > 0  # what a refusal earns


async def test_an_absent_edge_is_logged_not_raised(tmp_path, caplog) -> None:
    link = EdgeLink(tmp_path / "nothing.sock")
    gate = Gate()
    with caplog.at_level(logging.WARNING, logger="roost.shield"):
        await sync(link, gate, standing_for(gate), attack=False)
        await sync(link, gate, standing_for(gate), attack=False)
    assert not link.reachable
    assert sum("edge unreachable" in r.message for r in caplog.records) == 1


async def test_the_sites_slots_at_the_edge_follow_its_concurrency_limit(
    edge_factory, slow_server
) -> None:
    from roost.edge.runtime import parse_stat

    edge = edge_factory([slow_server])
    gate = Gate()
    standing = standing_for(gate)
    link = EdgeLink(edge.plan.socket, own_address=slow_server, ceiling=12)

    def slots() -> str:
        return parse_stat(edge.call("show stat"))[("site", "site1")]["slim"]

    bucket = Bucket(int(time.monotonic()))
    await link.sync(gate, standing, False, bucket, time.monotonic(), concurrency=5)
    assert slots() == "5"  # saturated: what the site cannot run waits in the edge's queue
    await link.sync(gate, standing, False, bucket, time.monotonic(), concurrency=400)
    assert slots() == "12"  # never above the configured ceiling
    other = EdgeLink(edge.plan.socket, own_address="127.0.0.1:1", ceiling=12)
    await other.sync(gate, standing, False, bucket, time.monotonic(), concurrency=3)
    assert slots() == "12" and other.server_name == ""  # a process the edge does not front
