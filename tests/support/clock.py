"""Test clocks: :class:`ManualClock` moves only when told; :class:`InstantClock` jumps ahead
whenever someone sleeps."""

from __future__ import annotations

import asyncio
import heapq
import itertools


class ManualClock:
    """A clock that advances only through :meth:`advance`; sleepers wake in deadline order."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

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

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its own deadline and letting it run."""
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, fut = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not fut.done():
                fut.set_result(None)
            await settle()
        self._now = target
        await settle()


async def settle(turns: int = 20) -> None:
    """Let ready tasks run for a few event-loop turns (tests only need this with ManualClock)."""
    for _ in range(turns):
        await asyncio.sleep(0)


class InstantClock(ManualClock):
    """Virtual time that jumps ahead whenever someone sleeps: retries and backoffs run instantly."""

    async def sleep(self, seconds: float) -> None:
        self._now += max(0.0, seconds)
        await asyncio.sleep(0)
