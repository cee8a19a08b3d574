"""The connection to Redis shared by the limiter and the cache: a client that fails fast, and
:class:`RedisLink`, which knows whether Redis is answering and probes it while it is not (degraded
mode). Also the start-up check of ``GATEWAY_REDIS_URL``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from gateway.clock import Clock

log = logging.getLogger("gateway.redis")

KEY_PREFIX = "vodgw:"
PROBE_INTERVAL = 1.0  # seconds between reconnection attempts in degraded mode
TIMEOUT = 0.25  # seconds for one Redis command (GATEWAY_REDIS_TIMEOUT; local Redis answers in < 1 ms)

REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError, asyncio.TimeoutError)


def connect(url: str, timeout: float = TIMEOUT) -> aioredis.Redis:
    """A client that fails fast: a short deadline on every read and connect (a frozen Redis, TCP
    open and nothing answering, costs one call ``timeout``, then degraded mode), and one immediate
    retry on a broken connection (a pooled connection to a Redis that restarted fails once, then
    reconnects; the script notices the restart itself)."""
    return aioredis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )


class RedisLink:
    """Whether Redis is answering, as this process last saw it; probes it while it is not, in the
    background: no lookup ever waits behind a probe."""

    def __init__(
        self,
        client: aioredis.Redis,
        clock: Clock,
        on_change: Callable[[bool], None] | None = None,
        probe_interval: float = PROBE_INTERVAL,
        local_qps: int | None = None,
        check: Callable[[], Awaitable[object]] | None = None,
        timeout: float = TIMEOUT,
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
        self.timeout = timeout  # the client's deadline for one command
        self._probe: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None  # probes on its own while degraded, idle or not

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
        if self._watch is None:
            self._watch = asyncio.get_running_loop().create_task(self._watch_until_back())

    async def _watch_until_back(self) -> None:
        try:
            while self.degraded:
                await self._clock.sleep(max(0.0, self._next_probe - self._clock.now()))
                self.probe_if_due()
                await self.probed()
        finally:
            self._watch = None

    def probe_if_due(self) -> None:
        """In degraded mode, start a check of Redis in the background, at most once per probe
        interval and one at a time; it leaves degraded mode when Redis answers. Never waits."""
        if not self.degraded or self._probe is not None or self._clock.now() < self._next_probe:
            return
        self._next_probe = self._clock.now() + self.probe_interval
        self._probe = asyncio.get_running_loop().create_task(self._run_probe())

    async def probed(self) -> None:
        """Wait for the probe under way, if any (tests)."""
        if self._probe is not None:
            await asyncio.shield(self._probe)

    async def _run_probe(self) -> None:
        try:
            answered = await self.ping()
        finally:
            self._probe = None
            self._next_probe = self._clock.now() + self.probe_interval
        if answered and self.degraded:
            self.degraded = False
            self.recovered_at = self._clock.now()
            log.warning("redis reachable again: leaving degraded mode", extra={"fields": {"degraded": False}})
            if self._on_change is not None:
                self._on_change(False)

    async def aclose(self) -> None:
        for task in (self._watch, self._probe):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.client.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self.check())
        except REDIS_FAILURES:
            return False


def redacted(url: str) -> str:
    """The URL without its user name and password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
