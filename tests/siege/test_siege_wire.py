"""The flood's HTTP parser and request bytes, and the source address plan."""

from __future__ import annotations

import ipaddress
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roost.siege.sources import AddressPlan, check_spread
from roost.siege.wire import BadResponse, ResponseParser, request_bytes

STREAM = (
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n"
    b"HTTP/1.1 204 No Content\r\n\r\n"
    b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
    b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\n\r\nno"
)


def test_a_stream_of_responses_is_split_by_status() -> None:
    assert ResponseParser().feed(STREAM) == [200, 404, 200, 204, 304, 429]


@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), max_size=12))
def test_any_split_of_the_stream_gives_the_same_statuses(cuts: list[int]) -> None:
    parser = ResponseParser()
    edges = [0, *sorted(set(cuts)), len(STREAM)]
    statuses = []
    for start, end in itertools.pairwise(edges):
        statuses += parser.feed(STREAM[start:end])
    assert statuses == [200, 404, 200, 204, 304, 429]


def test_a_close_delimited_body_ends_at_eof() -> None:
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.0 500 Oops\r\n\r\nsome body") == []
    assert parser.wants_close and parser.eof() == 500


def test_requests_carry_host_length_and_body() -> None:
    raw = request_bytes("POST", "/oauth/token", "127.0.0.1:8000", [("X-A", "b")], b"a=1")
    head, body = raw.split(b"\r\n\r\n")
    assert head.startswith(b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n")
    assert b"Content-Length: 3" in head and b"X-A: b" in head and body == b"a=1"


def test_address_plan_gives_disjoint_prefixes_inside_127() -> None:
    plan = AddressPlan(seed=7)
    first, second = plan.take(1000, 40), plan.take(254, 1)
    assert len(set(first)) == 1000 and not set(first) & set(second)
    prefixes = {ipaddress.IPv4Network(f"{a}/24", strict=False) for a in first}
    assert len(prefixes) == 40
    assert all(ipaddress.IPv4Address(a) in ipaddress.IPv4Network("127.0.0.0/8") for a in first)
    assert not any(a.startswith("127.0.") for a in first + second)  # left for the targets
    assert AddressPlan(seed=7).take(1000, 40) == first  # same seed, same botnet


@pytest.mark.parametrize(("bots", "prefixes"), [(10, 20), (255, 1), (0, 1), (5, 0)])
def test_impossible_spreads_are_refused(bots: int, prefixes: int) -> None:
    with pytest.raises(ValueError):
        check_spread(bots, prefixes)


@pytest.mark.parametrize(
    "garbage",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
    ],
)
def test_garbage_is_a_bad_response(garbage: bytes) -> None:
    with pytest.raises(BadResponse):
        ResponseParser().feed(garbage)
