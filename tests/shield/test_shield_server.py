"""A real server on loopback (uvicorn + ShieldProtocol + Shield around the testbed app):
deadlines, size caps, bad input, connection caps, the protocol's canned refusals."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from roost.shield.testbed import ServerProcess
from tests.support.waiting import wait_for, wait_until


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.get(url)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    s = ServerProcess(
        str(tmp_path / "server.log"),
        ROOST_SHIELD_MODE_FILE=str(tmp_path / "mode"),
        ROOST_SHIELD_HEADER_TIMEOUT="1",
        ROOST_SHIELD_BODY_TIMEOUT="1",
        ROOST_SHIELD_MAX_HEADER_BYTES="4096",
        ROOST_SHIELD_MAX_CONNECTIONS_PER_IP="8",
        ROOST_SHIELD_IP_RATE="5",
        ROOST_SHIELD_IP_BURST="5",
        ROOST_SHIELD_ADMIN_NETWORKS="127.0.0.1/32",
    ).wait_ready()
    yield s
    s.stop()
    assert "Traceback" not in s.log()


async def exchange(port: int, raw: bytes, source: str = "127.0.0.1", wait: float = 3.0) -> bytes:
    """Send raw bytes from ``source`` and read until the server closes or ``wait`` passes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(raw)
    await writer.drain()
    data = b""
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), wait)
            if not chunk:
                break
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    writer.close()
    return data


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0


@pytest.mark.parametrize(
    "raw,expected",
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 5000 + b"\r\n\r\n", 431),
        (b"POST /api/v1/statuses HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", 413),
        (b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", 413),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400),
    ],
)
async def test_bad_input_refused_with_the_right_status(
    server: ServerProcess, raw: bytes, expected: int
) -> None:
    response = await exchange(server.port, raw, source="127.0.3.1")
    assert status_of(response) == expected
    assert (await get(server.url + "/hello")).status_code == 200  # and the server is fine


async def test_chunked_body_over_the_cap_is_cut(server: ServerProcess) -> None:
    head = b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    response = await exchange(server.port, head + chunk * 2, source="127.0.3.2")
    assert status_of(response) == 413


async def test_slow_headers_and_bodies_are_cut_at_the_deadline(server: ServerProcess) -> None:
    started = time.monotonic()
    idle, partial, body = await asyncio.gather(
        exchange(server.port, b"", source="127.0.4.1"),
        exchange(server.port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1", source="127.0.4.2"),
        exchange(
            server.port,
            b"POST /api/v1/statuses HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
            source="127.0.4.3",
        ),
    )
    assert time.monotonic() - started < 2.9
    assert status_of(idle) == 408 and status_of(partial) == 408 and status_of(body) == 408


async def test_slowloris_does_not_deny_service(server: ServerProcess) -> None:
    """300 slow connections from 60 addresses (under the per-address cap of 8)."""

    async def slow(n: int) -> None:
        source = f"127.0.{10 + n % 60}.{1 + n // 60}"
        _, writer = await asyncio.open_connection("127.0.0.1", server.port, local_addr=(source, 0))
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
        try:
            for _ in range(10):
                await asyncio.sleep(0.3)  # the attack itself: a header line every 0.3 s
                writer.write(b"X-a: b\r\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        writer.close()

    tasks = [asyncio.ensure_future(slow(n)) for n in range(300)]
    await asyncio.sleep(0.5)  # the attack under way (not a wait for any one event)
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as c:
        statuses = [(await c.get("/hello")).status_code for _ in range(5)]
    assert statuses == [200] * 5
    await asyncio.gather(*tasks)


def test_per_address_connection_cap(server: ServerProcess) -> None:
    sockets = []
    for _ in range(12):
        sock = socket.socket()
        sock.bind(("127.0.5.1", 0))
        sock.settimeout(5)
        sock.connect(("127.0.0.1", server.port))
        # ask at once: an idle connection would meet the 1 s header deadline on a slow machine
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        sockets.append(sock)

    # The server accepts at its own pace: let it take all twelve before we close any.
    def all_taken() -> dict | None:
        gate = httpx.get(server.url + "/-/shield").json()["gate"]
        taken = gate["connection_cap_closes"] + gate["connections"] >= 13  # + the admin's own
        return gate if taken else None

    gate = wait_until(all_taken, "the server to take all twelve", interval=0.05)
    assert gate["connection_cap_closes"] == 4, gate
    closed = 0
    for sock in sockets:
        try:
            data = sock.recv(1024)
        except OSError:
            data = b""
        closed += not data
        sock.close()
    assert closed == 4


async def test_penalised_source_gets_canned_429s_on_a_kept_connection(
    server: ServerProcess,
) -> None:
    request = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
    response = await exchange(server.port, request * 12, source="127.0.6.1", wait=1.0)
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", response)]
    assert len(statuses) == 12
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}
    assert b"retry-after: " in response


async def test_a_penalised_browser_gets_the_slow_down_page(server: ServerProcess) -> None:
    """The protocol's canned 429, for a request that accepts HTML, is the site's page: on the
    fast path (whole bodiless requests) and through the parser (a body in the buffer)."""
    page = b"GET /hello HTTP/1.1\r\nHost: x\r\nAccept: text/html,*/*\r\n\r\n"
    body = b"POST /x HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nContent-Length: 2\r\n\r\nhi"
    flood = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n" * 8
    for n, tail in enumerate((page, body + page)):
        source = f"127.0.6.{2 + n}"
        await exchange(server.port, flood, source=source, wait=0.2)  # penalised now
        response = await exchange(server.port, tail, source=source, wait=0.3)
        last = response[response.rindex(b"HTTP/1.1 ") :]
        head, _, text = last.partition(b"\r\n\r\n")
        assert status_of(last) == 429, response[:200]
        assert b"content-type: text/html; charset=utf-8" in head
        assert b"<h1>Slow down a little</h1>" in text and b"Please try again in " in text
        length = int(re.search(rb"content-length: (\d+)", head).group(1))
        assert text.startswith(b"<!doctype html>") and len(text) == length
    # A pipelined burst asking for HTML gets the short text: refusals stay cheap under a flood.
    burst = await exchange(server.port, page * 3, source="127.0.6.3", wait=0.3)
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", burst) == [b"429"] * 3 and b"<html" not in burst


async def test_persistent_flooder_is_closed_at_accept(server: ServerProcess) -> None:
    request = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"

    async def flooded_until_blocked() -> bool:
        await exchange(server.port, request * 60, source="127.0.7.1", wait=0.5)
        return "127.0.7.1" in (await get(server.url + "/-/shield")).json()["blocked"]

    # Each look is one more burst; the shield folds the protocol's refusals into reputation
    # once a second, so it takes a few seconds of flooding (four bursts took 6 s before).
    await wait_for(flooded_until_blocked, "the flooder blocked", seconds=15, interval=0)
    assert await exchange(server.port, request, source="127.0.7.1", wait=1.0) == b""
    view = (await get(server.url + "/-/shield")).json()
    assert "127.0.7.1" in view["blocked"]
    assert (await get(server.url + "/hello")).status_code == 200


@pytest.mark.slow
async def test_two_thousand_slowloris_connections(server: ServerProcess) -> None:
    """Issue 7: 2,000 slowloris connections (250 addresses x 8, the per-address cap) must not deny
    service; the header deadline (1 s here) cuts them all."""
    opened: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def open_slow(n: int) -> None:
        source = f"127.8.{n % 250}.{1 + n // 250}"
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", server.port, local_addr=(source, 0)
            )
        except OSError:
            return
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        opened.append((reader, writer))

    await asyncio.gather(*(open_slow(n) for n in range(2000)))
    assert len(opened) >= 1900
    async with httpx.AsyncClient(base_url=server.url, timeout=3) as client:
        started = time.monotonic()
        statuses = [(await client.get("/hello")).status_code for _ in range(5)]
        assert statuses == [200] * 5  # (the fixture allows 127.0.0.1 a burst of 5)
        assert time.monotonic() - started < 3

    async def cut(reader: asyncio.StreamReader) -> bool:
        try:
            data = await asyncio.wait_for(reader.read(), 5)
        except (TimeoutError, ConnectionError):
            return False
        return data.startswith(b"HTTP/1.1 408")

    results = await asyncio.gather(*(cut(reader) for reader, _ in opened))
    assert sum(results) >= len(opened) * 0.99
    for _, writer in opened:
        writer.close()


async def test_penalised_source_with_bodies_and_credentials(server: ServerProcess) -> None:
    """Requests the fast path must not swallow: bodies are framed by the parser, and a bearer
    token goes to the layer (which serves a valid one even from a penalised address)."""
    from roost.domain.signed import mint_token
    from roost.shield.testbed import SECRET

    source = "127.0.9.1"
    flood = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n" * 8
    await exchange(server.port, flood, source=source, wait=0.5)
    post = b"POST /api/v1/statuses HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    response = await exchange(server.port, post + post + flood[:33], source=source, wait=0.5)
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", response) == [b"429"] * 3
    token = mint_token(SECRET, 7, 0)
    signed = f"GET /hello HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    response = await exchange(server.port, signed, source=source, wait=0.5)
    assert status_of(response) == 200


def test_roost_serve_uses_the_shield_protocol() -> None:
    from roost.config import Settings
    from roost.server import uvicorn_options

    options = uvicorn_options(Settings.from_env({}))
    assert options["http"] == "roost.shield.protocol:ShieldProtocol"
    assert options["access_log"] is False and options["proxy_headers"] is False


async def test_junk_never_crashes_the_server(server: ServerProcess) -> None:
    """Mutated and random requests: each gets a 4xx (or a close), never a 500."""
    import random

    rng = random.Random(7)
    base = b"POST /api/v1/statuses?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
    samples = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for _ in range(15)]
    for _ in range(15):
        mutated = bytearray(base)
        for _ in range(rng.randrange(1, 6)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        samples.append(bytes(mutated))
    samples += [
        b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 500 + b"\r\n",
        b"\r\n" * 100,
        b"GET /\x00 HTTP/1.1\r\n\r\n",
    ]
    for n, raw in enumerate(samples):
        response = await exchange(server.port, raw, source=f"127.0.10.{1 + n}", wait=1.5)
        assert not response.startswith(b"HTTP/1.1 5"), (raw, response[:80])
    assert (await get(server.url + "/hello")).status_code == 200


async def test_the_edge_is_not_judged_for_its_clients(tmp_path: Path) -> None:
    """Connections from a trusted proxy carry many clients: no cap, block or penalty on them."""
    s = ServerProcess(
        str(tmp_path / "proxied.log"),
        ROOST_SHIELD_MODE_FILE=str(tmp_path / "mode"),
        ROOST_SHIELD_MAX_CONNECTIONS_PER_IP="2",
        ROOST_SHIELD_IP_RATE="1",
        ROOST_SHIELD_IP_BURST="1",
        ROOST_SHIELD_TRUSTED_PROXIES="127.0.9.9/32",
    ).wait_ready()
    try:
        greedy = b"GET /a HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.5\r\n\r\n"
        assert status_of(await exchange(s.port, greedy, "127.0.9.9", 0.5)) == 200
        assert status_of(await exchange(s.port, greedy, "127.0.9.9", 0.5)) == 429  # penalised
        # The same proxy, for someone else, on more connections than one address may hold.
        other = b"GET /a HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.%d\r\n\r\n"
        answers = await asyncio.gather(
            *(exchange(s.port, other % n, "127.0.9.9", 1.0) for n in range(6))
        )
        assert [status_of(a) for a in answers] == [200] * 6
        # A direct client is still capped and penalised by address.
        direct = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        assert status_of(await exchange(s.port, direct, "127.0.9.10", 0.5)) == 200
        assert status_of(await exchange(s.port, direct, "127.0.9.10", 0.5)) == 429
    finally:
        s.stop()
    assert "Traceback" not in s.log()
