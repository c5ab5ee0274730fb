"""The edge's queue: signed-in people jump it, the anonymous are shed from it, nobody is cut off.

The site here is a deliberately slow server (0.3 s a request) behind an edge that lets one request
through at a time, so that requests queue; the tokens are real ones, signed with the secret the
edge checks them with.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import time

from roost.config import EdgeSettings
from roost.domain.signed import mint_token
from tests.edge.conftest import SECRET, edge_settings

YEAR_AGO = int(time.time()) - 365 * 86400


def get(port: int, path: str, token: str = "") -> tuple[int, str, float]:
    """(status, body, seconds taken) for one request on a fresh connection."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = conn.getresponse()
        return response.status, response.read().decode(), time.monotonic() - started
    finally:
        conn.close()


def flood_then(edge_port: int, anonymous: int, *late: tuple[str, str]) -> dict[str, tuple]:
    """``anonymous`` requests at once, then the ``late`` (path, token) ones 0.15 s after."""
    with concurrent.futures.ThreadPoolExecutor(anonymous + len(late)) as pool:
        futures = {f"/anon{i}": pool.submit(get, edge_port, f"/anon{i}") for i in range(anonymous)}
        time.sleep(0.15)
        for path, token in late:
            futures[path] = pool.submit(get, edge_port, path, token)
        return {path: future.result() for path, future in futures.items()}


def test_a_signed_in_request_jumps_the_queue(edge_factory, slow_server) -> None:
    edge = edge_factory(
        [slow_server], edge_settings(edge=EdgeSettings(server_maxconn=1, queue_shed=1000))
    )
    token = mint_token(SECRET.encode(), 42, YEAR_AGO)
    results = flood_then(edge.port, 8, ("/signed-in", token))
    signed_in = results.pop("/signed-in")
    assert signed_in[0] == 200
    assert all(status == 200 for status, _, _ in results.values())
    # Eight anonymous requests queued first; the signed-in one went right after the one running.
    overtaken = [path for path, (_, _, took) in results.items() if took > signed_in[2] + 0.15]
    assert len(overtaken) >= 6, (signed_in, results)


def test_a_forged_token_waits_its_turn(edge_factory, slow_server) -> None:
    edge = edge_factory(
        [slow_server], edge_settings(edge=EdgeSettings(server_maxconn=1, queue_shed=1000))
    )
    forged = mint_token(b"another-secret-" + b"z" * 32, 42, YEAR_AGO)
    results = flood_then(edge.port, 6, ("/forged", forged))
    forged_took = results.pop("/forged")[2]
    assert all(took < forged_took + 0.05 for _, _, took in results.values()), results


def test_new_accounts_queue_behind_established_ones(edge_factory, slow_server) -> None:
    edge = edge_factory(
        [slow_server], edge_settings(edge=EdgeSettings(server_maxconn=1, queue_shed=1000))
    )
    fresh = mint_token(SECRET.encode(), 7, int(time.time()) - 60)
    old = mint_token(SECRET.encode(), 8, YEAR_AGO)
    results = flood_then(edge.port, 4, ("/fresh", fresh), ("/old", old))
    assert results["/old"][2] < results["/fresh"][2]  # sent together: the older account first
    anonymous = [took for path, (_, _, took) in results.items() if path.startswith("/anon")]
    assert sorted(anonymous)[-1] > results["/fresh"][2]  # and a new account before strangers


def test_anonymous_requests_are_shed_when_the_queue_is_long(edge_factory, slow_server) -> None:
    edge = edge_factory(
        [slow_server], edge_settings(edge=EdgeSettings(server_maxconn=1, queue_shed=8))
    )
    token = mint_token(SECRET.encode(), 42, YEAR_AGO)
    results = flood_then(edge.port, 14, ("/signed-in", token))
    assert results.pop("/signed-in")[0] == 200
    statuses = sorted(status for status, _, _ in results.values())
    assert 503 in statuses and 200 in statuses, statuses


def test_a_refused_client_keeps_its_connection(edge_factory, slow_server) -> None:
    edge = edge_factory(
        [slow_server], edge_settings(edge=EdgeSettings(server_maxconn=1, queue_shed=4))
    )
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        busy = [pool.submit(get, edge.port, f"/busy{i}") for i in range(8)]
        time.sleep(0.15)
        conn = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=10)
        conn.request("GET", "/api/v1/timelines/public")
        refused = conn.getresponse()
        body = refused.read()
        assert refused.status == 503
        assert refused.getheader("Retry-After") == "5"
        assert body.startswith(b'{"error":')  # the API's shape
        assert refused.getheader("Connection") != "close"
        for future in busy:
            future.result()
        conn.request("GET", "/after")  # the same connection, once the queue has drained
        assert conn.getresponse().status == 200
        conn.close()


def test_an_account_asking_more_than_a_person_waits_behind_people(
    edge_factory, slow_server
) -> None:
    edge = edge_factory(
        [slow_server], edge_settings(edge=EdgeSettings(server_maxconn=1, queue_shed=1000))
    )
    heavy = mint_token(SECRET.encode(), 7, YEAR_AGO)
    light = mint_token(SECRET.encode(), 8, YEAR_AGO)
    for _ in range(40):  # a sybil's pace: 40 requests within the 10 s window
        assert get(edge.port, "/health", heavy)[0] == 200
    results = flood_then(edge.port, 4, ("/heavy", heavy), ("/light", light))
    assert results["/light"][2] < results["/heavy"][2]
    assert all(status == 200 for status, _, _ in results.values())
