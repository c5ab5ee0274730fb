"""The adaptive concurrency limit and the priority queue with CoDel timeouts."""

from __future__ import annotations

import asyncio

import pytest

from roost.shield.admission import Admission, Shed
from roost.shield.limit import GradientLimit
from tests.support.waiting import wait_for


def feed(
    limit: GradientLimit, rtt: float, inflight: int | None, windows: int, start: float = 0.0
) -> float:
    """Samples in 60 ms windows; ``inflight=None`` means the server is saturated (at its limit)."""
    now = start
    for _ in range(windows):
        for _ in range(10):
            now += 0.006
            limit.sample(rtt, limit.limit if inflight is None else inflight, now)
    return now


def test_limit_grows_while_latency_is_steady() -> None:
    limit = GradientLimit(initial=10, minimum=2, maximum=200)
    feed(limit, 0.010, inflight=None, windows=100)
    assert limit.limit > 50


def test_limit_shrinks_when_latency_rises() -> None:
    limit = GradientLimit(initial=50, minimum=2, maximum=200)
    now = feed(limit, 0.010, inflight=50, windows=30)
    grown = limit.limit
    feed(limit, 0.100, inflight=grown, windows=30, start=now)
    assert limit.limit < grown / 2


def test_limit_shrinks_when_overloaded_from_the_start() -> None:
    """The case that sank Gradient2 here: the first latency seen is a calm one, then a flood."""
    limit = GradientLimit(initial=32, minimum=4, maximum=512)
    now = feed(limit, 0.012, inflight=None, windows=3)
    feed(limit, 0.300, inflight=None, windows=40, start=now)
    assert limit.limit <= 6


def test_limit_does_not_grow_when_app_limited() -> None:
    limit = GradientLimit(initial=40, minimum=2, maximum=200)
    feed(limit, 0.010, inflight=2, windows=100)
    assert limit.limit == 40


def test_limit_respects_bounds() -> None:
    limit = GradientLimit(initial=10, minimum=5, maximum=12)
    feed(limit, 0.010, inflight=None, windows=200)
    assert limit.limit == 12
    feed(limit, 5.0, inflight=None, windows=30, start=100)
    assert limit.limit == 5


def fixed(n: int) -> GradientLimit:
    return GradientLimit(initial=n, minimum=n, maximum=n)


async def test_admits_up_to_limit_then_queues() -> None:
    adm = Admission(fixed(2), queue_max=10, target=0.005, interval=0.1)
    await adm.acquire(1)
    await adm.acquire(1)
    waiter = asyncio.ensure_future(adm.acquire(1))
    await wait_for(lambda: adm.queued == 1, "one waiter queued")
    assert not waiter.done()
    adm.release(1, 0.0)
    await asyncio.wait_for(waiter, 1)
    assert adm.inflight == 2


async def test_higher_class_served_first() -> None:
    adm = Admission(fixed(1), queue_max=10, target=0.5, interval=1.0)
    await adm.acquire(1)
    order: list[int] = []

    async def want(klass: int) -> None:
        await adm.acquire(klass)
        order.append(klass)
        adm.release(klass, 0.0)

    tasks = [asyncio.ensure_future(want(k)) for k in (3, 4, 1, 2)]
    await wait_for(lambda: adm.queued == 4, "four waiters queued")
    adm.release(1, 0.0)
    await asyncio.gather(*tasks)
    assert order == [1, 2, 3, 4]


async def test_older_accounts_outrank_new_ones() -> None:
    adm = Admission(fixed(1), queue_max=10, target=0.5, interval=1.0)
    await adm.acquire(1)
    order: list[float] = []

    async def want(rank: float) -> None:
        await adm.acquire(1, rank)
        order.append(rank)
        adm.release(1, 0.0)

    tasks = [asyncio.ensure_future(want(r)) for r in (0.9, 0.1, 0.5)]
    await wait_for(lambda: adm.queued == 3, "three waiters queued")
    adm.release(1, 0.0)
    await asyncio.gather(*tasks)
    assert order == [0.1, 0.5, 0.9]


async def test_full_queue_displaces_lowest_class() -> None:
    adm = Admission(fixed(1), queue_max=2, target=1.0, interval=1.0)
    await adm.acquire(1)
    low = [asyncio.ensure_future(adm.acquire(4)) for _ in range(2)]
    await wait_for(lambda: adm.queued == 2, "the queue full")
    high = asyncio.ensure_future(adm.acquire(1))
    await wait_for(lambda: any(t.done() for t in low), "a class-4 waiter displaced")
    displaced = [t for t in low if t.done()]
    assert len(displaced) == 1
    with pytest.raises(Shed) as info:
        displaced[0].result()
    assert info.value.reason == "displaced"
    with pytest.raises(Shed):  # a low arrival to a full queue of equals is refused
        await adm.acquire(4)
    adm.release(1, 0.0)
    await asyncio.wait_for(high, 1)
    for task in low:
        task.cancel()
    await asyncio.gather(*low, return_exceptions=True)


async def test_lower_classes_cannot_take_reserved_capacity() -> None:
    adm = Admission(fixed(10), queue_max=10, target=0.01, interval=0.02)
    for _ in range(4):
        await adm.acquire(4)  # class 4 gets 40 % of the limit
    with pytest.raises(Shed):
        await adm.acquire(4)
    await adm.acquire(1)  # a signed-in user is admitted at once


async def test_codel_short_timeout_when_queue_is_standing() -> None:
    clock = [0.0]
    adm = Admission(fixed(1), queue_max=100, target=0.005, interval=0.1, clock=lambda: clock[0])
    await adm.acquire(3)
    first = asyncio.ensure_future(adm.acquire(3))
    await wait_for(lambda: adm.queued == 1, "one waiter queued")
    clock[0] = 0.2  # the queue has not been empty for longer than the interval
    assert adm.standing(clock[0])
    started = asyncio.get_running_loop().time()
    with pytest.raises(Shed) as info:
        await adm.acquire(3)
    assert info.value.reason == "timeout"
    assert asyncio.get_running_loop().time() - started < 0.08
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)


async def test_waiter_times_out_after_interval_when_queue_was_empty() -> None:
    adm = Admission(fixed(1), queue_max=10, target=0.005, interval=0.05)
    await adm.acquire(3)
    with pytest.raises(Shed):
        await adm.acquire(3)
    assert adm.queued == 0


async def test_higher_class_waits_rather_than_shed_while_lower_classes_run() -> None:
    adm = Admission(fixed(4), queue_max=10, target=0.005, interval=0.02)
    for _ in range(2):
        await adm.acquire(3)  # class 3 takes half the slots (its share: while fewer than 3 run)
    await adm.acquire(1)
    await adm.acquire(1)
    waiting = asyncio.ensure_future(adm.acquire(1))
    # Time passing is the test: a class-3 waiter would have been shed by now. The shed timers
    # run on the event loop's clock (call_later), which the fake ``clock`` does not move.
    await asyncio.sleep(0.05)
    assert not waiting.done()
    adm.release(3, 0.0)
    await asyncio.wait_for(waiting, 1)
    assert adm.inflight_by_class[1] == 3


async def test_cancelled_waiter_leaves_the_queue() -> None:
    adm = Admission(fixed(1), queue_max=10, target=1.0, interval=1.0)
    await adm.acquire(1)
    waiting = asyncio.ensure_future(adm.acquire(3))
    await wait_for(lambda: adm.queued == 1, "one waiter queued")
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert adm.queued == 0
    adm.release(1, 0.0)
    assert adm.inflight == 0


def standing_clock() -> tuple[list[float], Admission]:
    """An admission whose queue counts as standing as soon as anyone waits (a fake clock)."""
    clock = [0.0]
    adm = Admission(fixed(1), queue_max=100, target=0.005, interval=0.1, clock=lambda: clock[0])
    return clock, adm


async def test_signed_in_waiter_is_not_shed_by_a_standing_queue() -> None:
    """The issue's false sheds: class 1 got four CoDel targets (20 ms) in a standing queue."""
    clock, adm = standing_clock()
    await adm.acquire(1)
    first = asyncio.ensure_future(adm.acquire(1))
    await wait_for(lambda: adm.queued == 1, "one waiter queued")
    clock[0] = 0.2
    assert adm.standing(clock[0])
    second = asyncio.ensure_future(adm.acquire(1))
    # Real time, on purpose (the timers use the loop's clock): five times what a standing
    # queue used to allow class 1.
    await asyncio.sleep(0.1)
    assert not first.done() and not second.done()
    adm.release(1, 0.0)
    await asyncio.wait_for(first, 1)
    adm.release(1, 0.0)
    await asyncio.wait_for(second, 1)
    assert adm.inflight_by_class[1] == 1


async def test_signed_in_waiters_are_served_in_arrival_order_while_the_queue_stands() -> None:
    """No adaptive LIFO for class 1: in a closed loop the newest waiter would always win and the
    oldest wait until it was shed."""
    clock, adm = standing_clock()
    await adm.acquire(1)
    order: list[str] = []

    async def want(name: str) -> None:
        await adm.acquire(1, 0.75)
        order.append(name)

    tasks = []
    for name in ("a", "b", "c"):
        tasks.append(asyncio.ensure_future(want(name)))
        await wait_for(lambda: adm.queued == len(tasks), f"{name} queued")
        clock[0] += 0.2  # standing from the second arrival on
    for _ in tasks:
        adm.release(1, 0.0)
        await wait_for(lambda: len(order) + adm.queued == len(tasks), "the admitted one running")
    await asyncio.gather(*tasks)
    assert order == ["a", "b", "c"]


async def test_lower_classes_keep_adaptive_lifo() -> None:
    clock, adm = standing_clock()
    adm.target = 1.0  # no time-outs in this test
    await adm.acquire(1)
    order: list[str] = []

    async def want(name: str) -> None:
        await adm.acquire(3)
        order.append(name)
        adm.release(3, 0.0)

    tasks = []
    for name in ("a", "b", "c"):
        tasks.append(asyncio.ensure_future(want(name)))
        await wait_for(lambda: adm.queued == len(tasks), f"{name} queued")
        clock[0] += 0.2
    adm.release(1, 0.0)
    await asyncio.gather(*tasks)
    assert order[0] == "c"  # the newest, once the queue stood


async def test_signed_in_waiter_is_never_timed_out_while_lower_classes_run() -> None:
    """Past its own bound and past MAX_EXTENSIONS intervals, while class 3 holds slots."""
    adm = Admission(fixed(4), queue_max=10, target=0.005, interval=0.01, class1_wait=0.02)
    for _ in range(2):
        await adm.acquire(3)
    await adm.acquire(1)
    await adm.acquire(1)
    waiting = asyncio.ensure_future(adm.acquire(1))
    # Real time, on purpose (the timers use the loop's clock): class1_wait + 28 intervals,
    # by which a class-2 waiter would be shed.
    await asyncio.sleep(0.3)
    assert not waiting.done()
    adm.release(3, 0.0)
    await asyncio.wait_for(waiting, 1)
    assert adm.inflight_by_class == {1: 3, 2: 0, 3: 1, 4: 0}


async def test_signed_in_waiter_is_shed_after_its_bound_behind_signed_in_work_only() -> None:
    adm = Admission(fixed(1), queue_max=10, target=0.005, interval=0.01, class1_wait=0.05)
    await adm.acquire(1)
    with pytest.raises(Shed) as info:
        await adm.acquire(1)
    assert info.value.reason == "timeout" and adm.queued == 0


async def test_closed_loop_of_signed_in_readers_is_never_shed() -> None:
    """Sixteen signed-in clients, each asking again as soon as it is answered, two slots: the
    queue never drains, and every client is still served, none refused."""
    clock = [0.0]
    adm = Admission(fixed(2), queue_max=512, target=0.005, interval=0.1, clock=lambda: clock[0])
    served = [0] * 16
    refused: list[str] = []

    async def reader(n: int) -> None:
        for _ in range(6):
            try:
                await adm.acquire(1, 0.75)
            except Shed as shed:
                refused.append(shed.reason)
                continue
            await asyncio.sleep(0.005)  # the page's work: a reader holds its slot a while
            clock[0] += 0.005
            adm.release(1, 0.0)
            served[n] += 1

    await asyncio.gather(*(reader(n) for n in range(16)))
    assert refused == [] and served == [6] * 16
