"""The per-account limiter, driven by a manual clock: exact, and without real sleeps."""

from __future__ import annotations

import asyncio

import pytest

from gateway.clock import ManualClock, settle
from gateway.loading.limiter import Admission, RateLimitExceeded, SlidingWindowLimiter


def max_in_window(times: list[float], window: float = 1.0) -> int:
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


async def test_no_window_ever_holds_more_than_n_calls() -> None:
    clock = ManualClock()
    admission = Admission(SlidingWindowLimiter(15, clock), clock)
    granted: list[float] = []

    async def caller() -> None:
        await admission.acquire(deadline=clock.now() + 100)
        granted.append(clock.now())

    tasks = [asyncio.create_task(caller()) for _ in range(100)]
    await settle()
    assert len(granted) == 15
    for _ in range(200):
        await clock.advance(0.05)
    await asyncio.gather(*tasks)
    assert len(granted) == 100
    assert max_in_window(granted) == 15


async def test_margin_widens_the_window() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(2, clock, margin=0.1)
    assert await limiter.try_acquire() == 0
    assert await limiter.try_acquire() == 0
    assert await limiter.try_acquire() == pytest.approx(1.1)
    await clock.advance(1.0)
    assert await limiter.try_acquire() == pytest.approx(0.1)
    await clock.advance(0.1)
    assert await limiter.try_acquire() == 0


async def test_waiters_are_served_in_fifo_order() -> None:
    clock = ManualClock()
    admission = Admission(SlidingWindowLimiter(1, clock), clock)
    order: list[int] = []

    async def caller(n: int) -> None:
        await admission.acquire(deadline=clock.now() + 100)
        order.append(n)

    tasks = []
    for n in range(6):
        tasks.append(asyncio.create_task(caller(n)))
        await settle(2)
    for _ in range(6):
        await clock.advance(1.0)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4, 5]


async def test_deadline_gives_rate_limited() -> None:
    clock = ManualClock()
    admission = Admission(SlidingWindowLimiter(1, clock), clock)
    await admission.acquire(deadline=clock.now() + 10)
    with pytest.raises(RateLimitExceeded) as info:
        await admission.acquire(deadline=clock.now() + 0.5)
    assert info.value.code == "RATE_LIMITED"
    assert info.value.next_grant_at == pytest.approx(clock.now() + 1.0)
    # it gave up at once, without sleeping: the next grant was known to come after the deadline
    assert clock.sleepers == 0 and info.value.waited == 0
    assert "VOD_MAX_WAIT" in info.value.message and "0.0s" not in info.value.message


async def test_a_waiter_gives_up_at_its_deadline_and_others_go_on() -> None:
    clock = ManualClock()
    admission = Admission(SlidingWindowLimiter(1, clock), clock)
    await admission.acquire(deadline=clock.now() + 10)
    patient = asyncio.create_task(admission.acquire(deadline=clock.now() + 10))
    await settle()
    await clock.advance(1.0)
    assert (await patient) == pytest.approx(1.0)
    hasty = asyncio.create_task(admission.acquire(deadline=clock.now() + 0.2))
    await settle()
    with pytest.raises(RateLimitExceeded):
        await hasty
