"""The per-account call budget: at most N calls in any window, waited for in FIFO order.

A :class:`Limiter` only answers "may a call go now, and if not, how long until one may"; the
:class:`Admission` in front of it queues callers FIFO and enforces their deadlines. The local
limiter lives here; the Redis one (shared by replicas) implements the same protocol.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Protocol

from gateway.clock import Clock
from gateway.vod.errors import RateLimited


class Limiter(Protocol):
    async def try_acquire(self) -> float:
        """Take one call if the window allows it and return 0; else return seconds to wait."""
        ...


class SlidingWindowLimiter:
    """At most ``calls`` grants in any ``window + margin`` seconds (a sliding log of grants).

    The margin widens the window so that a strict 1-second window upstream, seeing our calls
    shifted by network jitter, still never counts one too many.
    """

    def __init__(self, calls: int, clock: Clock, window: float = 1.0, margin: float = 0.0) -> None:
        if calls < 1:
            raise ValueError("calls must be >= 1")
        self._calls = calls
        self._span = window + margin
        self._clock = clock
        self._grants: deque[float] = deque()

    async def try_acquire(self) -> float:
        return self.try_acquire_now()

    def try_acquire_now(self) -> float:
        now = self._clock.now()
        grants = self._grants
        while grants and grants[0] <= now - self._span:
            grants.popleft()
        if len(grants) < self._calls:
            grants.append(now)
            return 0.0
        return grants[0] + self._span - now


class RateLimitExceeded(RateLimited):
    """Raised by :meth:`Admission.acquire` with the time the next grant may come."""

    def __init__(self, waited: float, next_grant_at: float) -> None:
        super().__init__(waited)
        self.next_grant_at = next_grant_at


class Admission:
    """FIFO queue in front of a limiter: callers are served in arrival order until their deadline."""

    def __init__(
        self, limiter: Limiter, clock: Clock, on_wait: Callable[[float], None] | None = None
    ) -> None:
        self._limiter = limiter
        self._clock = clock
        self._on_wait = on_wait
        self._lock = asyncio.Lock()  # asyncio.Lock hands over in FIFO order, without barging
        self.waiting = 0

    async def acquire(self, deadline: float) -> float:
        """Wait for a grant; return the seconds waited, or raise RateLimitExceeded at the deadline."""
        started = self._clock.now()
        self.waiting += 1
        try:
            async with self._lock:
                while True:
                    wait = await self._limiter.try_acquire()
                    now = self._clock.now()
                    if wait <= 0:
                        if self._on_wait is not None:
                            self._on_wait(now - started)
                        return now - started
                    if now + wait > deadline:
                        raise RateLimitExceeded(now - started, now + wait)
                    await self._clock.sleep(wait)
        finally:
            self.waiting -= 1
