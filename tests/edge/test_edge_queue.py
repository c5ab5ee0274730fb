"""The edge's queues: signed-in people jump them, strangers have slots of their own and are shed
(and held) when those fill, nobody is cut off for being refused.

The site here is a deliberately slow server (0.3 s a request) behind an edge that lets one or two
requests through at a time, so that requests queue; the tokens are real ones, signed with the
secret the edge checks them with.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import time

from roost.config import EdgeSettings
from roost.domain.signed import mint_token
from roost.edge.render import HISTORY_REQUESTS
from tests.edge.conftest import SECRET, edge_settings

YEAR_AGO = int(time.time()) - 365 * 86400
BROWSER = {"Accept": "text/html", "User-Agent": "Mozilla/5.0 (test)"}


def token_for(account: int, created: int = YEAR_AGO) -> str:
    return mint_token(SECRET.encode(), account, created)


def get(
    port: int, path: str, token: str = "", browser: bool = False
) -> tuple[int, str, float, float]:
    """(status, body, seconds taken, when it finished) for one request on a fresh connection."""
    headers = dict(BROWSER) if browser else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read().decode()
        return response.status, body, time.monotonic() - started, time.monotonic()
    finally:
        conn.close()


def flood_then(
    port: int, count: int, *late: tuple[str, str], token: str = "", browser: bool = False
) -> dict[str, tuple]:
    """``count`` requests at once (signed with ``token``, if given), then the ``late``
    (path, token) ones 0.15 s after."""
    with concurrent.futures.ThreadPoolExecutor(count + len(late)) as pool:
        futures = {
            f"/first{i}": pool.submit(get, port, f"/first{i}", token, browser) for i in range(count)
        }
        time.sleep(0.15)
        for path, late_token in late:
            futures[path] = pool.submit(get, port, path, late_token)
        return {path: future.result() for path, future in futures.items()}


def queued_edge(edge_factory, slow_server, **edge):
    edge.setdefault("server_maxconn", 1)
    edge.setdefault("queue_shed", 1000)
    return edge_factory([slow_server], edge_settings(edge=EdgeSettings(**edge)))


def test_a_signed_in_request_jumps_the_queue(edge_factory, slow_server) -> None:
    edge = queued_edge(edge_factory, slow_server)
    app = token_for(0)  # an app's own token: class 2, in the same queue as people
    results = flood_then(edge.port, 8, ("/signed-in", token_for(42)), token=app)
    signed_in = results.pop("/signed-in")
    assert signed_in[0] == 200
    assert all(status == 200 for status, *_ in results.values())
    # Eight app requests queued first; the signed-in one went right after the one running.
    overtaken = [path for path, (_, _, took, _) in results.items() if took > signed_in[2] + 0.15]
    assert len(overtaken) >= 6, (signed_in, results)


def test_strangers_never_take_the_signed_in_slots(edge_factory, slow_server) -> None:
    edge = queued_edge(edge_factory, slow_server, server_maxconn=2)
    results = flood_then(edge.port, 10, ("/signed-in", token_for(42)), browser=True)
    _, _, took, done = results.pop("/signed-in")
    # Strangers have a few slots of their own (their share, and the newcomers' backend), so ten
    # of them take four rounds or more of 0.3 s; the signed-in request waits for none of those
    # rounds, and most strangers finish after it. Judged by when each finished, not by how long
    # each took: on a loaded machine the pool starts some strangers late, and a late one takes
    # 0.3 s too (the old count of durations failed so, on this commit and the one before).
    after = sum(finished > done for *_, finished in results.values())
    assert took < 0.9 and after >= 6, (took, after, results)


def test_a_forged_token_is_a_stranger(edge_factory, slow_server) -> None:
    edge = queued_edge(edge_factory, slow_server)
    forged = mint_token(b"another-secret-" + b"z" * 32, 42, YEAR_AGO)
    results = flood_then(edge.port, 6, ("/forged", forged), ("/valid", token_for(42)))
    # Strangers queueing strain the edge: a stranger that is not a browser is refused (held),
    # and so is the forged token; the valid one is served.
    assert results["/valid"][0] == 200
    assert results["/forged"][0] == 503


def test_new_accounts_queue_behind_established_ones(edge_factory, slow_server) -> None:
    edge = queued_edge(edge_factory, slow_server)
    fresh = token_for(7, int(time.time()) - 60)
    old = token_for(8)
    results = flood_then(edge.port, 4, ("/fresh", fresh), ("/old", old), token=token_for(9))
    assert results["/old"][2] < results["/fresh"][2]  # sent together: the older account first
    assert all(status == 200 for status, *_ in results.values())


def test_an_account_asking_more_than_a_person_waits_behind_people(
    edge_factory, slow_server
) -> None:
    edge = queued_edge(edge_factory, slow_server)
    heavy, light = token_for(7), token_for(8)
    for _ in range(40):  # a sybil's pace: 40 requests within the 10 s window
        assert get(edge.port, "/health", heavy)[0] == 200
    results = flood_then(edge.port, 4, ("/heavy", heavy), ("/light", light), token=token_for(9))
    assert results["/light"][2] < results["/heavy"][2]
    assert all(status == 200 for status, *_ in results.values())


def test_strangers_are_shed_held_and_keep_their_connection(edge_factory, slow_server) -> None:
    edge = queued_edge(edge_factory, slow_server, queue_shed=4, hold_seconds=1.0)
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        busy = [pool.submit(get, edge.port, f"/busy{i}", "", True) for i in range(8)]
        time.sleep(0.15)
        conn = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=10)
        started = time.monotonic()
        conn.request("GET", "/api/v1/accounts/1", headers=BROWSER)
        refused = conn.getresponse()
        body = refused.read()
        held = time.monotonic() - started
        assert refused.status == 503
        assert refused.getheader("Retry-After") == "5"
        assert body.startswith(b'{"error":')  # the API's shape
        assert held >= 0.5  # held first: a bot waits before it can ask again
        assert refused.getheader("Connection") != "close"
        statuses = [future.result()[0] for future in busy]
        conn.request("GET", "/after", headers={"Authorization": f"Bearer {token_for(42)}"})
        assert conn.getresponse().status == 200  # the same connection, still open
        conn.close()
    # The first strangers were served; the later ones may be shed too, or, on a loaded machine
    # whose threads start late, arrive after the queue has drained (the probe proves shedding).
    assert 200 in statuses


def test_people_with_a_history_go_before_dormant_accounts(edge_factory, slow_server) -> None:
    """Accounts of the same age: while strained, one that has been using Roost waits behind none
    of the accounts that were dormant until the flood (the sybil shape: valid tokens, each
    asking slowly); in calm, the history is only counted."""
    edge = queued_edge(edge_factory, slow_server)
    regular = token_for(8)
    for _ in range(HISTORY_REQUESTS):
        assert get(edge.port, "/health", regular)[0] == 200
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        strangers = [pool.submit(get, edge.port, f"/page{n}", "", True) for n in range(4)]
        time.sleep(0.2)  # strangers queueing: the edge is strained from here on
        sybils = [pool.submit(get, edge.port, f"/sybil{n}", token_for(100 + n)) for n in range(8)]
        time.sleep(0.15)
        took = pool.submit(get, edge.port, "/person", regular).result()[2]
        later = [f.result()[2] for f in sybils]
        [f.result() for f in strangers]
    # Eight sybils were queued before the person asked, in slots of their own (two): at most
    # the two running went first, and the person waited for none of the others.
    assert sum(t > took for t in later) >= 6, (took, later)
