"""The per-account call budget shared by every replica through Redis, with a local fallback.

:class:`RedisWindowLimiter` is the local sliding window log moved into one Lua script: a sorted
set of grants per AccessKeyId, stamped with Redis's own clock, so replicas on different hosts
agree on time and no two of them can both take the last grant.

:class:`FailoverLimiter` uses it while Redis answers. When Redis fails it enters degraded mode:
each replica grants from a local window of ``floor(qps / replicas)`` calls, pre-filled as if that
share had just been spent, so the switch itself cannot burst: every outage starts from a full
window, even one that begins while the last one is still settling. Redis counts as back when the
script itself runs again (not merely a PING). The local window then keeps binding for a settling
period long enough that every replica has noticed too (one probe interval) and the grants taken
without Redis have left the window.

A Redis that restarted (or failed over, or lost the key) no longer knows the grants of the last
window. The script notices, because the log records which Redis process (``run_id``) keeps it,
and then counts the window as full for one span, for every replica alike.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from gateway.clock import Clock
from gateway.loading.limiter import MAX_HOLD, RECHECK, Grant, LocalGrant, SlidingWindowLimiter

log = logging.getLogger("gateway.redis")

KEY_PREFIX = "vodgw:"
PROBE_INTERVAL = 1.0  # seconds between reconnection attempts in degraded mode
TIMEOUT = 1.0  # seconds for one Redis command (local Redis answers in well under 1 ms)
# An idle log is kept this long (with its run_id), so that only a day's idleness costs one full
# window at the next call; a log that lost its grants is never trusted.
LIFETIME_MS = 24 * 3600 * 1000

# KEYS[1] the account's call log; ARGV: calls, span (µs), a member, the mode ("grant", "probe":
# check and clean up, grant nothing, "release": the member's answer is in), hold (µs). Each member
# is scored with the time it stops counting: a grant is scored ``now + hold + span`` while its call
# is out (hold bounds an attempt, so a replica that dies mid-call frees its grant), and
# ``now + span`` once released (added again if the log lost it meanwhile). Returns {wait_us,
# now_us}: wait 0 when granted (or for the other modes), else µs until the soonest member stops
# counting (more than span: all are still out).
# The log holds one "run:<run_id>" member scored +inf: the Redis process that kept it. When it is
# missing (a restart, a failover, a flush, an evicted key, or the very first call), the calls of
# the last span are unknown, so the window is filled with placeholders counting one span from now.
WINDOW_SCRIPT = """
local key = KEYS[1]
local calls = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local mode = ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if mode == 'release' then
  -- counts one span from now: sooner than its hold, or again if a restart lost it (no ZADD LT:
  -- that needs Redis 6.2)
  local held = redis.call('ZSCORE', key, ARGV[3])
  if not held or tonumber(held) > now + span then
    redis.call('ZADD', key, now + span, ARGV[3])
    redis.call('PEXPIRE', key, LIFETIME_MS)
  end
  return {0, now}
end
local ok, info = pcall(redis.call, 'INFO', 'server')
local owner = 'run:' .. ((ok and string.match(info, 'run_id:(%w+)')) or '?')
if not redis.call('ZSCORE', key, owner) then
  redis.call('ZREMRANGEBYSCORE', key, '+inf', '+inf')
  redis.call('ZADD', key, '+inf', owner)
  for i = 1, calls do
    redis.call('ZADD', key, now + span, 'unknown:' .. i)
  end
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
redis.call('PEXPIRE', key, LIFETIME_MS)
if mode == 'probe' then
  return {0, now}
end
if redis.call('ZCARD', key) - 1 < calls then
  redis.call('ZADD', key, now + tonumber(ARGV[5]) + span, ARGV[3])
  return {0, now}
end
local soonest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {math.max(1, tonumber(soonest[2]) - now), now}
""".replace("LIFETIME_MS", str(LIFETIME_MS))

REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError, asyncio.TimeoutError)


def limit_key(access_key_id: str) -> str:
    return f"{KEY_PREFIX}limit:{access_key_id}"


def connect(url: str) -> aioredis.Redis:
    """A client that fails fast: short timeouts, and one immediate retry on a broken connection
    (a pooled connection to a Redis that restarted fails once, then reconnects; the script
    notices the restart itself)."""
    return aioredis.Redis.from_url(
        url,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )


class RedisGrant:
    """A grant in the shared log; released with Redis's clock when the call's answer is in."""

    __slots__ = ("_limiter", "_member")

    def __init__(self, limiter: RedisWindowLimiter, member: str) -> None:
        self._limiter = limiter
        self._member = member

    async def release(self) -> None:
        """Returns at once: the answer doesn't wait for Redis (``RedisWindowLimiter.release_soon``)."""
        self._limiter.release_soon(self._member)


class RedisWindowLimiter:
    """At most ``calls`` calls counted at once across every process sharing ``key``; a call
    counts from its grant until ``window + margin`` after its release (the semantics of
    :class:`~gateway.loading.limiter.SlidingWindowLimiter`), on Redis's clock."""

    def __init__(
        self,
        client: aioredis.Redis,
        key: str,
        calls: int,
        window: float = 1.0,
        margin: float = 0.0,
        hold: float = MAX_HOLD,
    ) -> None:
        if calls < 1:
            raise ValueError("calls must be >= 1")
        self.key = key
        self._calls = calls
        self._span_us = round((window + margin) * 1_000_000)
        self._hold_us = round(hold * 1_000_000)
        self._script = client.register_script(WINDOW_SCRIPT)  # EVALSHA, loading it on NOSCRIPT
        self._member = f"{uuid.uuid4().hex[:12]}:"
        self._seq = itertools.count()
        self._unreleased: list[str] = []  # releases Redis failed to take: sent again when it answers
        self._tasks: set[asyncio.Task[None]] = set()

    def release_soon(self, *members: str) -> None:
        """Release ``members`` in the background. If Redis fails, they are kept and sent again
        after the next script that runs (until then they count until their hold ends: safe, if
        slower)."""
        task = asyncio.get_running_loop().create_task(self._release(list(members)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _release(self, members: list[str]) -> None:
        for n, member in enumerate(members):
            try:
                await self._run(member, "release")
            except REDIS_FAILURES as exc:
                self._unreleased.extend(members[n:])
                log.debug("could not release a grant in Redis: %s", type(exc).__name__)
                return

    async def drain(self) -> None:
        """Wait for the releases still on their way (at shutdown; tests)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def acquire_at(self) -> tuple[float, RedisGrant | None, float]:
        """(seconds to wait, 0 when granted; the grant; Redis's time of the decision in seconds)."""
        member = f"{self._member}{next(self._seq)}"
        wait_us, now_us = await self._run(member, "grant")
        if self._unreleased:  # Redis answers again: the releases it missed
            pending, self._unreleased = self._unreleased, []
            self.release_soon(*pending)
        now = now_us / 1_000_000
        if wait_us == 0:
            return 0.0, RedisGrant(self, member), now
        # a released call counts at most one span from now; longer means every one is still out
        return (wait_us / 1_000_000 if wait_us <= self._span_us else RECHECK), None, now

    async def try_acquire(self) -> tuple[float, Grant | None]:
        wait, grant, _ = await self.acquire_at()
        return wait, grant

    async def check(self) -> bool:
        """Run the script without taking a grant: does Redis answer it (not merely a PING)?"""
        await self._run("", "probe")
        return True

    async def _run(self, member: str, mode: str) -> tuple[int, int]:
        """(µs to wait, Redis's time in µs)."""
        args: list[str | int] = [self._calls, self._span_us, member, mode, self._hold_us]
        wait_us, now_us = await self._script(keys=[self.key], args=args)
        return int(wait_us), int(now_us)


class RedisLink:
    """Whether Redis is answering, as this process last saw it; probes it while it is not."""

    def __init__(
        self,
        client: aioredis.Redis,
        clock: Clock,
        on_change: Callable[[bool], None] | None = None,
        probe_interval: float = PROBE_INTERVAL,
        local_qps: int | None = None,
        check: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.client = client
        self.local_qps = local_qps
        self._clock = clock
        self._on_change = on_change
        self.probe_interval = probe_interval
        self.check = check or client.ping  # what "Redis answers" means: the limiter passes its script
        self.degraded = False
        self.outages = 0  # outages entered so far: each one starts a fresh local window
        self.recovered_at: float | None = None
        self._next_probe = 0.0

    def failed(self, exc: BaseException) -> None:
        """Record a failed command; the first one enters degraded mode."""
        if self.degraded:
            return
        self.degraded = True
        self.outages += 1
        self._next_probe = self._clock.now() + self.probe_interval
        share = f"; local limit {self.local_qps} calls/s" if self.local_qps is not None else ""
        log.warning(
            "redis unreachable (%s): entering degraded mode%s", type(exc).__name__, share,
            extra={"fields": {"degraded": True}},
        )  # fmt: skip
        if self._on_change is not None:
            self._on_change(True)

    async def probe_if_due(self) -> None:
        """In degraded mode, check Redis at most once per probe interval; leave it on an answer."""
        if not self.degraded or self._clock.now() < self._next_probe:
            return
        self._next_probe = self._clock.now() + self.probe_interval
        if not await self.ping():
            return
        if self.degraded:
            self.degraded = False
            self.recovered_at = self._clock.now()
            log.warning("redis reachable again: leaving degraded mode", extra={"fields": {"degraded": False}})
            if self._on_change is not None:
                self._on_change(False)

    async def ping(self) -> bool:
        try:
            return bool(await self.check())
        except REDIS_FAILURES:
            return False


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
        self._settle = hold + window + margin + link.probe_interval + TIMEOUT
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
        await link.probe_if_due()
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
