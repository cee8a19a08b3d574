"""The gateway's long-lived parts (upstream client, limiter, cache, lookup source): how they are
built from the settings, closed, and checked for readiness. ``app.py`` owns them in its lifespan."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, ResponseError

from gateway.clock import Clock
from gateway.loading.batcher import Batcher
from gateway.loading.cache import CacheTTLs, MemoryCache, SummaryCache
from gateway.loading.limiter import Admission, Limiter, SlidingWindowLimiter
from gateway.loading.loader import DirectSource, SummarySource
from gateway.loading.redis_cache import RedisCache
from gateway.loading.redis_limiter import (
    REDIS_FAILURES,
    FailoverLimiter,
    RedisLink,
    RedisWindowLimiter,
    connect,
    limit_key,
    share_of,
)
from gateway.metrics import Metrics
from gateway.settings import Settings, SettingsError
from gateway.vod.client import Admit, VodClient
from gateway.vod.credentials import Secret
from gateway.vod.models import SummaryPage


@dataclass
class Parts:
    """The long-lived parts, owned by the app's lifespan and shared by every request."""

    http: httpx.AsyncClient
    client: VodClient
    limiter: Limiter
    admission: Admission
    cache: SummaryCache | None
    source: SummarySource
    redis: RedisLink | None = None

    async def aclose(self) -> None:
        closer = getattr(self.source, "aclose", None)
        if closer is not None:
            await closer()
        await self.http.aclose()
        if self.redis is not None:
            drain = getattr(self.limiter, "drain", None)
            if drain is not None:  # releases still on their way to Redis
                await drain()
            await self.redis.client.aclose()


def build_parts(
    settings: Settings, clock: Clock, metrics: Metrics, transport: httpx.AsyncBaseTransport | None = None
) -> Parts:
    if settings.credentials is None:
        raise ValueError("credentials are required to build the upstream client")
    http = httpx.AsyncClient(
        transport=transport,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        headers={"user-agent": "vod-gateway/0.1 (+httpx)"},
    )
    client = VodClient(
        http,
        settings.vod_endpoint,
        settings.credentials,
        signature=settings.vod_signature,
        timeout=settings.vod_timeout,
        clock=clock,
        on_attempt=metrics.upstream_attempt,
    )
    ttls = CacheTTLs(settings.cache_ttl_active, settings.cache_ttl_terminal, settings.cache_ttl_not_found)
    limiter: Limiter
    cache: SummaryCache | None
    link: RedisLink | None = None
    if settings.redis_url is None:
        limiter = SlidingWindowLimiter(
            settings.vod_qps, clock, window=1.0, margin=settings.vod_qps_margin, hold=attempt_bound(settings)
        )
        cache = MemoryCache(ttls, clock, settings.cache_max_entries) if ttls.enabled else None
    else:
        account = settings.credentials.access_key_id
        limiter, cache, link = _redis_parts(settings, settings.redis_url, account, clock, metrics, ttls)
    admission = Admission(limiter, clock, on_wait=metrics.limiter_wait.observe)

    async def fetch(ids: list[str], deadline: float, admit: Admit) -> SummaryPage:
        return await client.get_transcode_summary(ids, deadline=deadline, admit=admit)

    source: SummarySource
    if settings.coalesce:
        source = Batcher(
            fetch,
            admission,
            clock,
            cache=cache,
            max_wait=settings.vod_max_wait,
            on_cache=metrics.cache,
            pace=(1.0 + settings.vod_qps_margin) / settings.vod_qps,
        )
    else:
        source = DirectSource(
            fetch, admission, clock, cache=cache, max_wait=settings.vod_max_wait, on_cache=metrics.cache
        )
    return Parts(http, client, limiter, admission, cache, source, link)


def attempt_bound(settings: Settings) -> float:
    """The longest one upstream attempt can take: pool, connect, write and read, VOD_TIMEOUT each."""
    return 4 * settings.vod_timeout


def _redis_client(url: Secret) -> aioredis.Redis:
    try:
        return connect(url.reveal())
    except ValueError:
        raise SettingsError("GATEWAY_REDIS_URL is not a redis://, rediss:// or unix:// URL") from None


def _redis_parts(
    settings: Settings, url: Secret, account: str, clock: Clock, metrics: Metrics, ttls: CacheTTLs
) -> tuple[Limiter, SummaryCache | None, RedisLink]:
    """The limiter and cache shared by replicas through Redis, both keyed by AccessKeyId."""
    share = share_of(settings.vod_qps, settings.replicas)
    client = _redis_client(url)
    margin = settings.vod_qps_margin
    hold = attempt_bound(settings)  # a grant whose replica died mid-call stops counting then
    shared = RedisWindowLimiter(
        client, limit_key(account), settings.vod_qps, window=1.0, margin=margin, hold=hold
    )
    # Redis is back when the limiter's script runs again, not merely when it answers a PING
    link = RedisLink(
        client,
        clock,
        on_change=lambda down: metrics.degraded.set(int(down)),
        local_qps=share,
        check=shared.check,
    )
    limiter = FailoverLimiter(shared, link, clock, share=share, window=1.0, margin=margin, hold=hold)

    def cache_error(op: str, ids: int) -> None:
        if op != "put":  # a read that failed is a miss; the batcher counts misses, this counts why
            metrics.cache_lookups.labels("error").inc(ids)

    cache: SummaryCache | None = None
    if ttls.enabled:
        cache = RedisCache(client, ttls, account=account, link=link, on_error=cache_error)
    return limiter, cache, link


async def check_redis(settings: Settings) -> None:
    """Fail start-up (SettingsError, one line, no password) if GATEWAY_REDIS_URL is set but Redis
    does not answer a PING, or refuses the limiter's script (an ACL, a proxy without Lua). The CLI
    calls this before serving."""
    if settings.redis_url is None:
        return
    client = _redis_client(settings.redis_url)
    where = redacted(settings.redis_url.reveal())
    try:
        try:
            await client.ping()
        except (AuthenticationError, ResponseError) as exc:  # it answered, and said no
            raise SettingsError(
                f"GATEWAY_REDIS_URL: Redis at {where} refuses the login ({type(exc).__name__}); "
                "check the user name and password in the URL"
            ) from None
        except Exception as exc:
            raise SettingsError(
                f"GATEWAY_REDIS_URL: Redis at {where} does not answer ({type(exc).__name__}); "
                "start it, or unset GATEWAY_REDIS_URL to run a single replica without it"
            ) from None
        if settings.credentials is not None:
            key = limit_key(settings.credentials.access_key_id)
            margin = settings.vod_qps_margin  # the probe drops old grants: the same span as the limiter
            try:
                await RedisWindowLimiter(client, key, settings.vod_qps, window=1.0, margin=margin).check()
            except REDIS_FAILURES as exc:
                raise SettingsError(
                    f"GATEWAY_REDIS_URL: Redis at {where} answers but refuses the limiter's Lua script "
                    f"({type(exc).__name__}); it needs EVAL/EVALSHA and Redis 5 or later"
                ) from None
    finally:
        await client.aclose()


def redacted(url: str) -> str:
    """The URL without its user name and password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


_ready_cache: dict[str, tuple[float, str]] = {}


async def readiness(parts: Parts | None, settings: Settings) -> dict[str, str]:
    """Is the upstream reachable (any HTTP answer to an unsigned GET counts; cached 5 s)? And Redis,
    when configured (the limiter's script runs)?"""
    if parts is None:
        return {"upstream": "starting"}
    checks = {"upstream": await _upstream_state(parts, settings)}
    if parts.redis is not None:
        # readiness probes drive the switch back too: an idle replica would stay degraded otherwise
        await parts.redis.probe_if_due()
        checks["redis"] = "ok" if await parts.redis.ping() else "unreachable"
    return checks


async def _upstream_state(parts: Parts, settings: Settings) -> str:
    cached = _ready_cache.get(settings.vod_endpoint)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    try:
        await parts.http.get(settings.vod_endpoint + "/", timeout=2.0)
        state = "ok"
    except httpx.HTTPError:
        state = "unreachable"
    _ready_cache[settings.vod_endpoint] = (time.monotonic() + 5.0, state)
    return state
