"""The per-account call budget: at most N calls in any window, waited for in FIFO order.

Upstream, a call is counted when it arrives, which is some time between our sending it and our
receiving its answer: network latency and CPU scheduling (ours, and the service's) move it within
that span. A window of grant times with a fixed margin is therefore only safe while that jitter
stays under the margin. Here a call counts from its grant until ``window + margin`` after its
answer came back (a :class:`Grant` is released then), so any two calls N apart arrive at least a
window apart, whatever the latency, and every delay on our side only makes us more careful.
Throughput at saturation is ``N / (window + margin + latency)`` calls per second.

A :class:`Limiter` only answers "may a call go now, and if not, how long until one may"; the
:class:`Admission` in front of it queues callers FIFO and enforces their deadlines. The local
limiter lives here; the Redis one (shared by replicas) implements the same protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from gateway.clock import Clock
from gateway.loading.errors import RateLimited

RECHECK = 0.05
"""Seconds to wait before asking again when every counted call is still waiting for its answer."""
MAX_HOLD = 120.0
"""By default, a grant not released this long after it was taken stops counting: a guard against
a leak. The gateway sets it to :func:`attempt_bound`."""


def attempt_bound(vod_timeout: float) -> float:
    """The longest one upstream attempt can take: pool, connect, write and read, VOD_TIMEOUT each."""
    return 4 * vod_timeout


class Grant(Protocol):
    async def release(self) -> None:
        """The call's answer came back (or it was never sent): it counts one window from now."""
        ...


class Limiter(Protocol):
    async def try_acquire(self) -> tuple[float, Grant | None]:
        """(0, a grant) if a call may go now; else (seconds to wait before asking again, None)."""
        ...


class LocalGrant:
    __slots__ = ("_limiter", "end", "released")

    def __init__(self, limiter: SlidingWindowLimiter) -> None:
        self._limiter = limiter
        self.end = limiter.clock.now() + limiter.hold + limiter.span  # until released: the call is out
        self.released = False

    async def release(self) -> None:
        self.release_now()

    def release_now(self) -> None:
        if not self.released:
            self.released = True
            self.end = min(self.end, self._limiter.clock.now() + self._limiter.span)


class SlidingWindowLimiter:
    """At most ``calls`` calls counted at once; each counts until ``window + margin`` after its
    grant is released."""

    def __init__(
        self, calls: int, clock: Clock, window: float = 1.0, margin: float = 0.0, hold: float = MAX_HOLD
    ) -> None:
        if calls < 1:
            raise ValueError("calls must be >= 1")
        self._calls = calls
        self.span = window + margin
        self.hold = hold
        self.clock = clock
        self._counted: list[LocalGrant] = []

    async def try_acquire(self) -> tuple[float, Grant | None]:
        return self.try_acquire_now()

    def try_acquire_now(self) -> tuple[float, LocalGrant | None]:
        now = self.clock.now()
        counted = self._counted = [g for g in self._counted if g.end > now]
        if len(counted) < self._calls:
            grant = LocalGrant(self)
            counted.append(grant)
            return 0.0, grant
        ends = [g.end for g in counted if g.released]
        return (min(ends) - now if ends else RECHECK), None  # none released: all still out

    def give_back(self, grant: LocalGrant) -> None:
        """A grant whose call was never sent: it stops counting at once."""
        if grant in self._counted:
            self._counted.remove(grant)

    def fill(self) -> None:
        """Count ``calls`` calls answered just now: nothing may go for one span."""
        for _ in range(self._calls - len(self._counted)):
            _, grant = self.try_acquire_now()
            if grant is not None:
                grant.release_now()


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

    async def acquire(self, deadline: float) -> Grant:
        """Wait for a grant (release it when the call's answer is in), or raise RateLimitExceeded
        as soon as the next grant is known to come after ``deadline``."""
        started = self._clock.now()
        self.waiting += 1
        try:
            await self._turn(started, deadline)
            try:
                while True:
                    wait, grant = await self._limiter.try_acquire()
                    now = self._clock.now()
                    if grant is not None:
                        if self._on_wait is not None:
                            self._on_wait(now - started)
                        return grant
                    if now + wait > deadline:
                        raise RateLimitExceeded(now - started, now + wait)
                    await self._clock.sleep(wait)
            finally:
                self._lock.release()
        finally:
            self.waiting -= 1

    async def _turn(self, started: float, deadline: float) -> None:
        """Wait for the callers ahead (FIFO), but not past ``deadline``; return holding the lock."""
        if self.waiting == 1 and not self._lock.locked():  # nobody ahead: no timer needed
            await self._lock.acquire()
            return
        turn = asyncio.ensure_future(self._lock.acquire())
        timer = asyncio.ensure_future(self._clock.sleep(max(0.0, deadline - self._clock.now())))
        try:
            await asyncio.wait({turn, timer}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled while queued: give up our place, and the lock if it came
            self._abandon(turn)
            raise
        finally:
            timer.cancel()
        if turn.done() and not turn.cancelled():
            return
        self._abandon(turn)
        now = self._clock.now()
        raise RateLimitExceeded(now - started, now)

    def _abandon(self, turn: asyncio.Future[Any]) -> None:
        """Leave the queue; a lock handed over meanwhile is handed on at once."""

        def hand_on(done: asyncio.Future[Any]) -> None:
            if not done.cancelled():
                self._lock.release()

        if turn.done():
            hand_on(turn)
        else:
            turn.cancel()
            turn.add_done_callback(hand_on)
