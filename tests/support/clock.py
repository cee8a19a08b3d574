"""Test clocks: :class:`ManualClock` moves only when told; :class:`InstantClock` jumps ahead
whenever someone sleeps.

A test on a :class:`ManualClock` never counts event-loop turns. It waits for conditions:

- :meth:`ManualClock.idle`: run the loop until nothing more can happen without time passing;
- :meth:`ManualClock.until`: let time pass, one sleeper's deadline at a time, until a condition holds;
- :meth:`ManualClock.advance`: let a given time pass, every sleeper waking at its own deadline.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable

MAX_PASSES = 100_000
"""Loop passes :meth:`ManualClock.idle` allows before it calls the loop busy: a guard against a task
that never waits for anything, never a measure of time."""


class NeverIdle(AssertionError):
    """The event loop kept having work to do without time passing."""


class ManualClock:
    """A clock that advances only through :meth:`advance` and :meth:`until`; sleepers wake in
    deadline order (equal deadlines in the order they went to sleep)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._drains: list[Callable[[], Awaitable[None]]] = []

    def also_wait_for(self, drain: Callable[[], Awaitable[None]]) -> None:
        """Make :meth:`idle` also await ``drain()``: work on real I/O that the loop's ready queue
        doesn't show (a Redis command in flight), finished before time moves on."""
        self._drains.append(drain)

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), fut))
        await fut

    @property
    def sleepers(self) -> int:
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def next_deadline(self) -> float | None:
        """When the next sleeper wakes, or None if nobody sleeps on this clock."""
        while self._sleepers and self._sleepers[0][2].done():  # cancelled sleepers
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    def _wake_one_due(self) -> bool:
        """Wake the first sleeper whose deadline has come, if any."""
        deadline = self.next_deadline()
        if deadline is None or deadline > self._now:
            return False
        _, _, fut = heapq.heappop(self._sleepers)
        fut.set_result(None)
        return True

    async def idle(self) -> None:
        """Return once the event loop is idle: no callback is ready to run (asyncio's ``_ready``
        queue, inspected for tests only) and no sleeper is due without advancing time.

        Work waiting on real I/O or another thread is not "ready": this is for in-process code on
        this clock, plus whatever :meth:`also_wait_for` names. Raises :class:`NeverIdle` if the loop
        stays busy for :data:`MAX_PASSES` passes."""
        loop = asyncio.get_running_loop()
        for _ in range(MAX_PASSES):
            woke = self._wake_one_due()
            await asyncio.sleep(0)
            if not woke and not loop._ready:  # type: ignore[attr-defined]
                if not self._drains:
                    return
                for drain in self._drains:
                    await drain()
                await asyncio.sleep(0)
                due = (d := self.next_deadline()) is not None and d <= self._now
                if not loop._ready and not due:  # type: ignore[attr-defined]
                    return
        raise NeverIdle(f"the event loop was still busy after {MAX_PASSES} passes, with no time passing")

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking each sleeper at its own deadline and letting the
        loop go idle before the next one; then idle at the target time."""
        target = self._now + seconds
        await self.idle()
        while (deadline := self.next_deadline()) is not None and deadline <= target:
            self._now = max(self._now, deadline)
            self._wake_one_due()
            await self.idle()
        self._now = max(self._now, target)
        await self.idle()

    async def until(
        self, condition: Callable[[], object], max_seconds: float = 3600.0, what: str = ""
    ) -> float:
        """Let time pass, from one sleeper's deadline to the next (idle in between), until
        ``condition()`` holds; returns the seconds that passed. Fails if it does not hold once the
        loop is idle and no sleeper is due within ``max_seconds`` (``max_seconds=0``: hold now)."""
        start = self._now
        limit = start + max_seconds
        await self.idle()
        while not condition():
            deadline = self.next_deadline()
            if deadline is None or deadline > limit:
                nxt = (
                    "nobody sleeps on the clock"
                    if deadline is None
                    else f"the next sleeper wakes at +{deadline - start:g} s"
                )
                raise AssertionError(
                    f"{what or getattr(condition, '__name__', 'the condition')} never held within "
                    f"{max_seconds:g} s of manual time (the loop is idle; {nxt})"
                )
            self._now = max(self._now, deadline)
            self._wake_one_due()
            await self.idle()
        return self._now - start


class InstantClock(ManualClock):
    """Virtual time that jumps ahead whenever someone sleeps: retries and backoffs run instantly."""

    async def sleep(self, seconds: float) -> None:
        self._now += max(0.0, seconds)
        await asyncio.sleep(0)
