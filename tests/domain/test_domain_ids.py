"""Snowflake ids: ordered by time, unique, and parsed strictly from clients."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from roost.domain.ids import MAX_ID, IdGenerator, id_floor, id_time, parse_id


def test_ids_strictly_increase_even_within_one_millisecond():
    gen = IdGenerator(3, clock=lambda: 1_700_000_000.0)
    ids = [gen.next_id() for _ in range(10_000)]  # more than 4,096 per ms: borrows ahead
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_ids_increase_when_the_clock_steps_back():
    times = iter([1_700_000_001.0, 1_700_000_000.0, 1_700_000_000.5])
    gen = IdGenerator(0, clock=lambda: next(times))
    first, second, third = gen.next_id(), gen.next_id(), gen.next_id()
    assert first < second < third


@given(st.floats(min_value=1_300_000_000, max_value=3_000_000_000))
def test_id_time_round_trips_to_the_millisecond(seconds):
    gen = IdGenerator(5, clock=lambda: seconds)
    made = gen.next_id()
    assert abs(id_time(made).timestamp() - seconds) < 0.002
    assert id_floor(id_time(made)) <= made
    assert 0 < made <= MAX_ID


def test_worker_id_must_fit_ten_bits():
    import pytest

    with pytest.raises(ValueError):
        IdGenerator(1024)


def test_parse_id_accepts_only_positive_63_bit_integers():
    assert parse_id("123") == 123
    assert parse_id(" 42 ") == 42
    for bad in ("", "abc", "-1", "0", "1e5", "9" * 20, str(MAX_ID + 1), None, True):
        assert parse_id(bad) is None
    for other_digits in ("1\u00b27", "\u0661\u0662", "\uff11\uff12", "1\u00b3"):  # issue 12
        assert parse_id(other_digits) is None


def test_id_floor_orders_with_time():
    early = id_floor(datetime(2024, 1, 1, tzinfo=UTC))
    late = id_floor(datetime(2025, 1, 1, tzinfo=UTC))
    assert early < late
