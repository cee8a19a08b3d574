"""The per-account call budget shared by every replica through Redis.

:class:`RedisWindowLimiter` is the local sliding window log moved into one Lua script: a sorted
set of grants per AccessKeyId, stamped with Redis's own clock, so replicas on different hosts
agree on time and no two of them can both take the last grant.

A Redis that restarted (or failed over, or lost the key) no longer knows the grants of the last
window. The script notices, because the log records which Redis process (``run_id``) keeps it,
and then counts the window as full for one span, for every replica alike. What happens while Redis
does not answer is ``failover.py``'s.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid

import redis.asyncio as aioredis

from gateway.loading.limiter import MAX_HOLD, RECHECK, Grant
from gateway.loading.redis_link import KEY_PREFIX, REDIS_FAILURES

log = logging.getLogger("gateway.redis")

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


def limit_key(access_key_id: str) -> str:
    return f"{KEY_PREFIX}limit:{access_key_id}"


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
