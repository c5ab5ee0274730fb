"""GCRA and its fixed-size table."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from roost.shield.gcra import Limit, RateTable, gcra


def test_burst_then_rate() -> None:
    table = RateTable(1024)
    limit = Limit(rate=10, burst=5)
    allowed = [table.check("a", limit, now=100.0).allowed for _ in range(7)]
    assert allowed == [True] * 5 + [False] * 2
    # one emission interval later, exactly one more fits
    assert table.check("a", limit, now=100.1).allowed
    assert not table.check("a", limit, now=100.1).allowed


def test_refusal_reports_retry_after_and_does_not_spend() -> None:
    table = RateTable(64)
    limit = Limit(rate=1, burst=1)
    assert table.check("k", limit, 0.0).allowed
    refused = table.check("k", limit, 0.5)
    assert not refused.allowed
    assert abs(refused.retry_after - 0.5) < 1e-9
    assert table.check("k", limit, 1.0).allowed  # the refusal did not push the TAT


def test_remaining_and_limit_headers() -> None:
    tat, decision = gcra(0.0, 10.0, Limit(2, 4), 1.0)
    assert decision.limit == 4 and decision.remaining == 3
    assert abs(decision.reset_after - 0.5) < 1e-9
    _, decision = gcra(tat, 10.0, Limit(2, 4), 3.0)
    assert decision.remaining == 0


def test_cost_weights_requests() -> None:
    table = RateTable(64)
    limit = Limit(rate=1, burst=10)
    assert table.check("x", limit, 0.0, cost=10).allowed
    assert not table.check("x", limit, 0.0, cost=1).allowed


def test_keys_are_independent() -> None:
    table = RateTable(1 << 12)
    limit = Limit(1, 1)
    assert table.check("a", limit, 0.0).allowed
    assert table.check("b", limit, 0.0).allowed
    assert not table.check("a", limit, 0.0).allowed


def test_table_is_bounded_and_keeps_debtors() -> None:
    table = RateTable(1024)
    limit = Limit(1, 1)
    assert table.check("flooder", limit, 0.0, cost=1).allowed
    table.check("flooder", limit, 0.0, cost=1)  # refused: TAT stays 1 s ahead
    for i in range(20_000):  # churn through many fresh keys at t=0
        table.check(f"fresh-{i}", limit, 0.0)
    assert table.occupied() <= table.slots == 1024
    assert table.evictions > 0
    # fresh keys' TATs equal the flooder's here; what matters: the table never grew
    assert len(table._keys) == 1024


def test_eviction_prefers_idle_keys() -> None:
    table = RateTable(2)  # a single pair of slots
    slow = Limit(0.001, 1)
    table.check("debtor", slow, 0.0)  # TAT = 1000 s in the future
    table.check("idle", Limit(1000, 1), 0.0)  # TAT = 0.001
    table.check("newcomer", Limit(1000, 1), 0.0)  # evicts "idle", the smaller TAT
    assert table.debt("debtor", 0.0) > 999
    assert table.debt("idle", 0.0) == 0.0


@given(
    st.floats(0.1, 1000),
    st.floats(1, 100),
    st.lists(st.floats(0, 0.5), min_size=1, max_size=50),
)
def test_never_more_than_burst_plus_rate(rate: float, burst: float, gaps: list[float]) -> None:
    table = RateTable(16)
    limit = Limit(rate, burst)
    now, allowed = 0.0, 0
    for gap in gaps:
        now += gap
        allowed += table.check("k", limit, now).allowed
    assert allowed <= burst + rate * now + 1
