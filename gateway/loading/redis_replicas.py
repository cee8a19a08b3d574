"""The live replica count on Redis, for the degraded-mode share.

Each replica (each ``--workers`` worker too) stamps itself into a sorted set per AccessKeyId every
:data:`HEARTBEAT` seconds, on Redis's own clock; a stamp older than :data:`STALE` seconds no longer
counts. The share a replica takes if Redis is lost is ``VOD_QPS / n``, where ``n`` is the highest
count it saw in the last :data:`PEAK_WINDOW` seconds, never below ``GATEWAY_REPLICAS``: scaling out
beyond ``GATEWAY_REPLICAS`` lowers every replica's share within a heartbeat, and a replica that
stops (or a heartbeat that comes late) raises it only a minute later.

How it degrades: while Redis is unreachable no count is taken, and the share is the one from the
counts seen before (a replica can't start without Redis, so none joins unseen). A replica that
has never reached Redis since it started keeps ``GATEWAY_REPLICAS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections import deque
from collections.abc import Callable

import redis.asyncio as aioredis

from gateway.clock import Clock
from gateway.loading.redis_link import KEY_PREFIX, REDIS_FAILURES
from gateway.loading.tasks import stopped

log = logging.getLogger("gateway.redis")

HEARTBEAT = 2.0
STALE = 6.0
PEAK_WINDOW = 60.0

# KEYS[1]: the set; ARGV[1]: this replica; ARGV[2]: stale after (ms). Returns the live count.
_BEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[2]))
return redis.call('ZCARD', KEYS[1])
"""


def replicas_key(access_key_id: str) -> str:
    return f"{KEY_PREFIX}replicas:{access_key_id}"


class ReplicaCount:
    """This replica's heartbeat, and the count it reports to ``on_count`` (``floor`` at least)."""

    def __init__(
        self,
        client: aioredis.Redis,
        account: str,
        clock: Clock,
        floor: int,
        on_count: Callable[[int], None],
        *,
        heartbeat: float = HEARTBEAT,
        stale: float = STALE,
        peak_window: float = PEAK_WINDOW,
    ) -> None:
        self._client = client
        self._key = replicas_key(account)
        self._clock = clock
        self._floor = max(1, floor)
        self._on_count = on_count
        self._heartbeat = heartbeat
        self._stale_ms = int(stale * 1000)
        self._peak_window = peak_window
        self.member = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._seen: deque[tuple[float, int]] = deque()  # (when, live count), the last minute's
        self.count = self._floor
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="replica-heartbeat")

    async def _run(self) -> None:
        while True:
            await self.beat()
            await self._clock.sleep(self._heartbeat)

    async def beat(self) -> int:
        """One heartbeat: the count now in force (unchanged if Redis did not answer)."""
        try:
            live = int(await self._client.eval(_BEAT, 1, self._key, self.member, self._stale_ms))
        except REDIS_FAILURES:
            return self.count  # degraded: the counts seen before stand
        now = self._clock.now()
        self._seen.append((now, live))
        while self._seen and self._seen[0][0] < now - self._peak_window:
            self._seen.popleft()
        count = max(self._floor, *(n for _, n in self._seen))
        if count != self.count:
            log.info("replicas counted", extra={"fields": {"replicas": count, "live": live}})
            self.count = count
            self._on_count(count)
        return count

    async def aclose(self) -> None:
        await stopped(self._task)
        with contextlib.suppress(*REDIS_FAILURES):
            await self._client.zrem(self._key, self.member)  # the others stop counting it at once
