"""The per-account limiter, driven by a manual clock: exact, and without real sleeps."""

from __future__ import annotations

import asyncio
import random

import pytest

from gateway.loading.limiter import MAX_HOLD, RECHECK, Admission, RateLimitExceeded, SlidingWindowLimiter
from gateway.schema.errors import extensions_of
from tests.support.clock import ManualClock


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most ``times`` in any window (t - window, t], as a strict upstream counts them."""
    return max(sum(1 for u in times if t - window < u <= t) for t in times)


async def test_no_window_ever_holds_more_than_n_calls() -> None:
    clock = ManualClock()
    admission = Admission(SlidingWindowLimiter(15, clock), clock)
    granted: list[float] = []

    async def caller() -> None:
        grant = await admission.acquire(deadline=clock.now() + 100)
        granted.append(clock.now())
        await grant.release()  # an answer at once

    tasks = [asyncio.create_task(caller()) for _ in range(100)]
    await clock.idle()
    assert len(granted) == 15
    for _ in range(200):
        await clock.advance(0.05)
    await asyncio.gather(*tasks)
    assert len(granted) == 100
    assert max_in_window(granted) == 15


async def test_a_strict_upstream_never_counts_one_too_many_whatever_the_jitter() -> None:
    """Each call reaches the upstream at any moment between being sent and being answered (network,
    and CPU scheduling on both sides); answers take 0 to 300 ms. Counting a call until a window
    after its answer keeps every upstream window at 15, with no margin at all."""
    clock = ManualClock()
    admission = Admission(SlidingWindowLimiter(15, clock), clock)
    rng = random.Random(5)
    arrivals: list[float] = []

    async def call() -> None:
        grant = await admission.acquire(deadline=clock.now() + 1000)
        sent = clock.now()
        latency = rng.uniform(0.0, 0.3)
        arrivals.append(sent + rng.uniform(0.0, latency))  # when the upstream counts it
        await clock.sleep(latency)
        await grant.release()

    tasks = [asyncio.create_task(call()) for _ in range(300)]
    while not all(t.done() for t in tasks):
        await clock.advance(0.01)
    assert len(arrivals) == 300
    assert max_in_window(arrivals) <= 15


async def test_a_call_still_out_keeps_counting() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(2, clock)
    wait, first = await limiter.try_acquire()
    assert wait == 0 and first is not None
    wait, second = await limiter.try_acquire()
    assert wait == 0 and second is not None
    await clock.advance(5.0)  # both still out, however long ago they were granted
    assert await limiter.try_acquire() == (RECHECK, None)  # nothing known yet: ask again soon
    await first.release()
    wait, third = await limiter.try_acquire()
    assert wait == pytest.approx(1.0) and third is None  # one window after that answer
    await clock.advance(1.0)
    wait, third = await limiter.try_acquire()
    assert wait == 0 and third is not None


async def test_margin_widens_the_window() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(2, clock, margin=0.1)
    for _ in range(2):
        wait, grant = await limiter.try_acquire()
        assert wait == 0 and grant is not None
        await grant.release()
    assert (await limiter.try_acquire())[0] == pytest.approx(1.1)
    await clock.advance(1.0)
    assert (await limiter.try_acquire())[0] == pytest.approx(0.1)
    await clock.advance(0.1)
    assert (await limiter.try_acquire())[0] == 0


async def test_a_grant_never_released_stops_counting_after_the_hold() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(1, clock)
    assert (await limiter.try_acquire())[0] == 0  # taken and leaked
    await clock.advance(MAX_HOLD)
    assert (await limiter.try_acquire())[0] == RECHECK
    await clock.advance(1.0)
    assert (await limiter.try_acquire())[0] == 0


async def test_fill_counts_a_full_window_from_now() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(3, clock)
    limiter.fill()
    assert (await limiter.try_acquire())[0] == pytest.approx(1.0)
    await clock.advance(1.0)
    assert (await limiter.try_acquire())[0] == 0


async def test_waiters_are_served_in_fifo_order() -> None:
    clock = ManualClock()
    admission = Admission(SlidingWindowLimiter(1, clock), clock)
    order: list[int] = []

    async def caller(n: int) -> None:
        grant = await admission.acquire(deadline=clock.now() + 100)
        order.append(n)
        await grant.release()

    tasks = []
    for n in range(6):
        tasks.append(asyncio.create_task(caller(n)))
        await clock.idle()
    for _ in range(6):
        await clock.advance(1.0)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4, 5]


async def test_deadline_gives_rate_limited() -> None:
    clock = ManualClock()
    admission = Admission(SlidingWindowLimiter(1, clock), clock)
    await (await admission.acquire(deadline=clock.now() + 10)).release()
    with pytest.raises(RateLimitExceeded) as info:
        await admission.acquire(deadline=clock.now() + 0.5)
    assert extensions_of(info.value)["code"] == "RATE_LIMITED"
    assert info.value.next_grant_at == pytest.approx(clock.now() + 1.0)
    # it gave up at once, without sleeping: the next grant was known to come after the deadline
    assert clock.sleepers == 0 and info.value.waited == 0
    assert "VOD_MAX_WAIT" in info.value.message and "0.0s" not in info.value.message


async def test_a_waiter_gives_up_at_its_deadline_and_others_go_on() -> None:
    clock = ManualClock()
    admission = Admission(SlidingWindowLimiter(1, clock), clock)
    await (await admission.acquire(deadline=clock.now() + 10)).release()
    patient = asyncio.create_task(admission.acquire(deadline=clock.now() + 10))
    await clock.idle()
    await clock.advance(1.0)
    await (await patient).release()
    hasty = asyncio.create_task(admission.acquire(deadline=clock.now() + 0.2))
    await clock.idle()
    with pytest.raises(RateLimitExceeded):
        await hasty


async def test_a_queued_waiter_gives_up_at_its_own_deadline() -> None:
    """Behind a caller that waits long for its grant, a caller with a short budget doesn't wait out
    the first one's turn: it gives up at its own deadline."""
    clock = ManualClock()
    admission = Admission(SlidingWindowLimiter(1, clock), clock)
    await (await admission.acquire(deadline=clock.now() + 10)).release()  # the next grant: in 1 s
    patient = asyncio.create_task(admission.acquire(deadline=clock.now() + 10))
    await clock.idle()
    hasty = asyncio.create_task(admission.acquire(deadline=clock.now() + 0.3))
    await clock.idle()
    await clock.advance(0.3)
    with pytest.raises(RateLimitExceeded):
        await hasty
    assert not patient.done()
    await clock.advance(0.7)
    await (await patient).release()  # the one ahead was not disturbed
    assert admission.waiting == 0


async def test_a_caller_cancelled_in_the_queue_leaves_no_trace() -> None:
    """An unsubscribe, a dropped socket or a shutdown cancels a queued caller: the queue goes on,
    and the lock isn't left held by a turn nobody waits for."""
    clock = ManualClock()
    admission = Admission(SlidingWindowLimiter(1, clock), clock)
    await (await admission.acquire(deadline=clock.now() + 10)).release()
    first = asyncio.create_task(admission.acquire(deadline=clock.now() + 10))
    await clock.idle()
    doomed = asyncio.create_task(admission.acquire(deadline=clock.now() + 10))
    await clock.idle()
    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed
    await clock.advance(1.0)
    await (await first).release()
    await clock.advance(1.0)
    assert not admission._lock.locked() and admission.waiting == 0
    alone = asyncio.create_task(admission.acquire(deadline=clock.now() + 10))
    await clock.idle()
    assert alone.done()  # granted at once: nothing held the lock
    await (await alone).release()
