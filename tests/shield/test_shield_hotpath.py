"""The calm path's shortcuts (bench/shield_overhead.py) keep every judgement they shortcut."""

from __future__ import annotations

import base64
import json
import re
import time

import itsdangerous
import pytest

from roost.domain.signed import mint_token
from roost.shield.gate import Gate
from roost.shield.gcra import Decision
from roost.shield.identity import SESSION_MAX_AGE, Identifier
from roost.shield.metrics import ShieldMetrics
from roost.shield.reputation import ReputationTable
from roost.shield.responses import rate_headers

SECRET = b"k" * 32


def session(account_id: int) -> list[tuple[bytes, bytes]]:
    data = base64.b64encode(json.dumps({"account_id": account_id, "account_created": 1}).encode())
    return [(b"cookie", b"roost_session=" + itsdangerous.TimestampSigner(SECRET).sign(data))]


def test_a_remembered_session_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    identify = Identifier(SECRET)
    headers = session(42)
    assert identify(headers).account_id == 42
    assert identify(headers).account_id == 42  # remembered
    later = time.time() + SESSION_MAX_AGE + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert identify(headers).account_id == 0


def test_forged_credentials_stay_anonymous_every_time() -> None:
    identify = Identifier(SECRET)
    token = mint_token(SECRET, 7, 1)
    forged = [(b"authorization", ("Bearer " + token[:-2] + "xx").encode())]
    assert [identify(forged).account_id for _ in range(3)] == [0, 0, 0]
    other = Identifier(b"x" * 32)  # a session signed with another secret
    assert [other(session(42)).account_id for _ in range(2)] == [0, 0]
    valid = [(b"authorization", ("Bearer " + token).encode())]
    assert [identify(valid).account_id for _ in range(2)] == [7, 7]


def test_repeated_headers_keep_the_last_value() -> None:
    identify = Identifier(SECRET)
    headers = [(b"user-agent", b"first"), (b"user-agent", b"last")]
    assert identify(headers).user_agent == "last"


def test_request_counts_reach_metrics_at_every_scrape() -> None:
    metrics = ShieldMetrics()
    metrics.count("admitted", 3, "read")
    line = b'roost_shield_requests_total{klass="3",outcome="admitted",reason="read"} '
    assert line + b"1.0" in metrics.render()
    metrics.count("admitted", 3, "read")
    metrics.count("admitted", 3, "read")
    assert line + b"3.0" in metrics.render()


def test_sweep_forgets_lapsed_penalties_only() -> None:
    gate = Gate()
    gate.penalize("198.51.100.1", 1, now=100.0)
    gate.penalize("198.51.100.2", 10, now=100.0)
    gate.sweep(105.0)
    assert list(gate.penalties) == ["198.51.100.2"]
    assert gate.penalty("198.51.100.2", 105.0) == 5.0
    gate.sweep(111.0)
    assert gate.penalty("198.51.100.2", 111.0) == 0.0 and not gate.penalties


def test_rate_headers_are_remembered_whole_and_read_only() -> None:
    decision = Decision(True, 60, 59, 0.05, 0.0)
    first = rate_headers(decision, 1_800_000_000.2)
    assert first is rate_headers(decision, 1_800_000_000.4)  # same second: the same tuple
    assert dict(first)[b"x-ratelimit-remaining"] == b"59"
    assert re.fullmatch(rb"2027-01-15T08:00:01\.000Z", dict(first)[b"x-ratelimit-reset"])
    assert isinstance(first, tuple)


def test_clean_keys_skip_decay_without_changing_the_tally() -> None:
    table = ReputationTable()
    table.first_seen("a", 0.0)  # a record with no points, as every new address gets
    table.add("a", "good", 10.0)
    assert table.good_uses("a") == 1 and table.suspicion("a", 10.0) == 0.0
    table.add("a", "failed_login", 20.0)
    table.add("a", "failed_login", 80.0)  # the first has halved by now
    assert table.suspicion("a", 80.0) == pytest.approx(1 - 2.718281828 ** (-1.5 / 8))
