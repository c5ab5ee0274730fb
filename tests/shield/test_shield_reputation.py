"""Fingerprints and reputation scoring."""

from __future__ import annotations

from roost.shield.fingerprint import fingerprint, signature
from roost.shield.reputation import SUSPICIOUS, ReputationTable, account_rank

FIREFOX = [
    (b"host", b"roost.test"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    (b"accept", b"text/html"),
    (b"accept-language", b"en-US"),
    (b"accept-encoding", b"gzip, br"),
    (b"connection", b"keep-alive"),
]


def test_real_browser_headers_match() -> None:
    fp = fingerprint(FIREFOX)
    assert fp.kind == "browser" and not fp.mismatch


def test_browser_ua_without_browser_headers_is_a_mismatch() -> None:
    headers = [(b"host", b"x"), (b"user-agent", FIREFOX[1][1]), (b"accept", b"*/*")]
    assert fingerprint(headers).mismatch


def test_firefox_ua_in_the_wrong_place_is_a_mismatch() -> None:
    headers = [h for h in FIREFOX if h[0] != b"user-agent"] + [FIREFOX[1]]
    assert fingerprint(headers).mismatch


def test_honest_scripts_and_apps_are_not_mismatches() -> None:
    assert fingerprint([(b"user-agent", b"curl/8.5.0")]) == fingerprint(
        [(b"user-agent", b"curl/8.5.0")]
    )
    assert fingerprint([(b"user-agent", b"curl/8.5.0")]).kind == "script"
    assert not fingerprint([(b"user-agent", b"Tusky/25.0")]).mismatch
    assert fingerprint([]).kind == "none"


def test_signature_depends_on_header_order() -> None:
    assert signature(FIREFOX) != signature(FIREFOX[::-1])


def test_persistence_after_429_makes_a_client_suspicious() -> None:
    table = ReputationTable()
    for _ in range(30):
        table.add("198.51.100.7", "rate_limited", now=10.0)
    assert table.suspicion("198.51.100.7", 10.0) >= SUSPICIOUS
    assert table.suspicion("198.51.100.8", 10.0) == 0.0


def test_a_few_404s_are_forgiven() -> None:
    table = ReputationTable()
    for _ in range(3):
        table.add("a", "not_found", now=0.0)
    assert table.suspicion("a", 0.0) < 0.15


def test_suspicion_decays_with_time() -> None:
    table = ReputationTable()
    table.add("a", "bad_challenge", now=0.0, times=5)
    early = table.suspicion("a", 0.0)
    assert table.suspicion("a", 600.0) < early / 100


def test_good_use_earns_points_back() -> None:
    table = ReputationTable()
    table.add("a", "failed_login", 0.0)
    for _ in range(40):
        table.add("a", "good", 0.0)
    assert table.suspicion("a", 0.0) == 0.0
    assert table.good_uses("a") == 40


def test_table_is_bounded() -> None:
    table = ReputationTable(capacity=100)
    for i in range(1000):
        table.add(f"k{i}", "not_found", 0.0)
    assert len(table) <= 100


def test_top_orders_worst_first() -> None:
    table = ReputationTable()
    table.add("mild", "not_found", 0.0)
    table.add("bad", "malformed", 0.0, times=5)
    assert [k for k, _ in table.top(2, 0.0)] == ["bad", "mild"]


def test_older_accounts_rank_ahead() -> None:
    now = 1_800_000_000
    old = account_rank(now - 3 * 365 * 86400, 0, now)
    new = account_rank(now - 3600, 0, now)
    assert old < new < 1.0
    assert account_rank(now - 3600, 5000, now) < new
