"""The account's limit while Redis may fail: the shared window while Redis answers, a pre-filled
local share while it does not.

When Redis fails the gateway enters degraded mode: each replica grants from a local window of
``floor(qps / replicas)`` calls, pre-filled as if that share had just been spent, so the switch
itself cannot burst: every outage starts from a full window, even one that begins while the last one
is still settling. Redis counts as back when the limiter's script itself runs again (not merely a
PING). The local window then keeps binding for a settling period long enough that every replica has
noticed too (one probe interval) and the grants taken without Redis have left the window.
"""

from __future__ import annotations

from gateway.clock import Clock
from gateway.loading.limiter import MAX_HOLD, Grant, LocalGrant, SlidingWindowLimiter
from gateway.loading.redis_limiter import RedisWindowLimiter
from gateway.loading.redis_link import REDIS_FAILURES, RedisLink


class FailoverLimiter:
    """The shared Redis window while Redis answers; a pre-filled local share while it does not."""

    def __init__(
        self,
        shared: RedisWindowLimiter,
        link: RedisLink,
        clock: Clock,
        *,
        share: int,
        window: float = 1.0,
        margin: float = 0.0,
        hold: float = MAX_HOLD,
    ) -> None:
        self._shared = shared
        self._link = link
        self._clock = clock
        self.share = max(1, share)
        self._window = window
        self._margin = margin
        self._hold = hold
        # Redis may return just after a probe fails; every replica notices within the next one.
        # Calls granted locally during the outage are unknown to Redis and may still be out (up
        # to ``hold``) and count a window after that: until then every replica keeps its share.
        self._settle = hold + window + margin + link.probe_interval + link.timeout
        self._local: SlidingWindowLimiter | None = None
        self._outage = 0  # the link's outage the local window was made for

    async def drain(self) -> None:
        await self._shared.drain()

    @property
    def local(self) -> SlidingWindowLimiter | None:
        """The local window, while degraded or settling after an outage."""
        return self._local

    async def try_acquire(self) -> tuple[float, Grant | None]:
        link = self._link
        link.probe_if_due()  # in the background: a frozen Redis must not stall the grant
        if link.degraded:
            return self._outage_window().try_acquire_now()
        local = self._local
        if local is not None and (
            link.recovered_at is None or self._clock.now() >= link.recovered_at + self._settle
        ):
            local = self._local = None
        settling: LocalGrant | None = None
        if local is not None:
            wait, settling = local.try_acquire_now()  # settling: both windows must grant
            if settling is None:
                return wait, None
        try:
            wait, shared = await self._shared.try_acquire()
        except REDIS_FAILURES as exc:
            # Redis may have granted up to its limit in the last window, this call included: a
            # local grant taken while settling doesn't stand, and the outage starts from a full window
            link.failed(exc)
            return self._outage_window().try_acquire_now()
        if settling is None or shared is None:
            if settling is not None and local is not None:
                local.give_back(settling)  # Redis refused: no call goes on this grant
            return wait, shared
        return 0.0, _Both(settling, shared)

    def _outage_window(self) -> SlidingWindowLimiter:
        """The local window of the current outage, pre-filled when the outage began."""
        if self._local is None or self._outage != self._link.outages:
            local = SlidingWindowLimiter(
                self.share, self._clock, window=self._window, margin=self._margin, hold=self._hold
            )
            local.fill()  # as if the share had just been spent: no burst at the switch
            self._local = local
            self._outage = self._link.outages
        return self._local


class _Both:
    """A settling grant: the local window's and the shared one's, released together."""

    __slots__ = ("_grants",)

    def __init__(self, *grants: Grant) -> None:
        self._grants = grants

    async def release(self) -> None:
        for grant in self._grants:
            await grant.release()


def share_of(qps: int, replicas: int) -> int:
    """Each replica's local budget in degraded mode: floor(qps / replicas), at least 1."""
    return max(1, qps // max(1, replicas))
