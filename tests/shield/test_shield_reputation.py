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
    old = account_rank(now - 3 * 365 * 86400, now)
    month = account_rank(now - 40 * 86400, now)
    week = account_rank(now - 10 * 86400, now)
    new = account_rank(now - 3600, now)
    assert old == month < week < new < 1.0


def test_accounts_of_about_the_same_age_are_equals() -> None:
    """A continuous rank put accounts created seconds apart in a strict order, and in a queue
    that never drained the last of them never reached the front."""
    now = 1_800_000_000
    assert account_rank(now - 3600, now) == account_rank(now - 3610, now)
    assert account_rank(now - 200 * 86400, now) == account_rank(now - 900 * 86400, now)


def test_top_finds_the_worst_keys_among_many() -> None:
    """Thousands of offenders (more than NOTABLE: the notable set is pruned several times),
    some worsening long after they were first seen, others only merged from Redis."""
    import random

    rng = random.Random(3)
    table = ReputationTable()
    keys = [f"198.51.{n // 250}.{n % 250}" for n in range(5000)]
    for step in range(20_000):
        key = rng.choice(keys)
        table.add(key, rng.choice(["not_found", "client_error", "rate_limited"]), step / 1000)
    late = keys[17]
    table.add(late, "malformed", 20.0, times=3)  # a key that turns bad after many prunes
    table.merge("203.0.113.9", 30.0, 20.0)  # another process's judgement
    for n in range(3000):
        table.first_seen(f"10.0.{n // 250}.{n % 250}", 20.0)  # clean: never in the top
    everyone = [*keys, "203.0.113.9", "10.0.0.1"]
    expected = sorted(everyone, key=lambda k: -table.suspicion(k, 21.0))[:20]
    top = table.top(20, 21.0)
    assert [key for key, _ in top] == expected
    assert top[0][0] == "203.0.113.9" and top[1][0] == late


def test_top_looks_only_at_notable_keys() -> None:
    """The admin view runs top() on the event loop: it must not scan the whole table."""
    from roost.shield.reputation import NOTABLE

    class Counting(ReputationTable):
        looked = 0

        def suspicion(self, key: str, now: float) -> float:
            self.looked += 1
            return super().suspicion(key, now)

    table = Counting()
    for n in range(50_000):
        table.first_seen(f"k{n}", 0.0)
    for n in range(3):
        table.add(f"bad{n}", "malformed", 0.0, times=n + 1)
    table.looked = 0
    assert [key for key, _ in table.top(20, 1.0)] == ["bad2", "bad1", "bad0"]
    assert table.looked <= NOTABLE
