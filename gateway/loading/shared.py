"""The parts that replicas share through Redis (``GATEWAY_REDIS_URL``): the account's limiter and the
summary cache, both keyed by AccessKeyId; and the start-up check that Redis answers and runs the
limiter's script."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, ResponseError

from gateway.clock import Clock
from gateway.config.settings import Settings, SettingsError
from gateway.loading.cache import CacheTTLs, SummaryCache
from gateway.loading.failover import FailoverLimiter, share_of
from gateway.loading.limiter import Limiter, attempt_bound
from gateway.loading.redis_cache import RedisCache
from gateway.loading.redis_limiter import RedisWindowLimiter, limit_key
from gateway.loading.redis_link import REDIS_FAILURES, RedisLink, connect, redacted
from gateway.loading.redis_replicas import ReplicaCount
from gateway.metrics import Metrics
from gateway.vod.credentials import Secret


def _redis_client(url: Secret, timeout: float) -> aioredis.Redis:
    try:
        return connect(url.reveal(), timeout)
    except ValueError:
        raise SettingsError("GATEWAY_REDIS_URL is not a redis://, rediss:// or unix:// URL") from None


@dataclass(frozen=True)
class SharedParts:
    limiter: Limiter
    cache: SummaryCache | None
    link: RedisLink
    replicas: ReplicaCount  # started with the other parts (``Parts.start``)


def redis_parts(
    settings: Settings, url: Secret, account: str, clock: Clock, metrics: Metrics, ttls: CacheTTLs
) -> SharedParts:
    """The limiter and cache shared by replicas through Redis, both keyed by AccessKeyId, and the
    live replica count that sets the degraded-mode share (``redis_replicas.py``)."""
    share = share_of(settings.vod_qps, settings.replicas)
    client = _redis_client(url, settings.redis_timeout)
    margin = settings.vod_qps_margin
    hold = attempt_bound(settings.vod_timeout)  # a grant whose replica died mid-call stops counting then
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
        timeout=settings.redis_timeout,
    )
    limiter = FailoverLimiter(shared, link, clock, share=share, window=1.0, margin=margin, hold=hold)

    def cache_error(op: str, ids: int) -> None:
        if op != "put":  # a read that failed is a miss; the batcher counts misses, this counts why
            metrics.cache_lookups.labels("error").inc(ids)

    cache: SummaryCache | None = None
    if ttls.enabled:
        cache = RedisCache(client, ttls, account=account, link=link, on_error=cache_error)

    def counted(replicas: int) -> None:
        limiter.share = link.local_qps = share_of(settings.vod_qps, replicas)
        metrics.replicas.set(replicas)

    metrics.replicas.set(settings.replicas)
    replicas = ReplicaCount(client, account, clock, settings.replicas, counted)
    return SharedParts(limiter, cache, link, replicas)


async def check_redis(settings: Settings) -> None:
    """Fail start-up (SettingsError, one line, no password) if GATEWAY_REDIS_URL is set but Redis
    does not answer a PING, or refuses the limiter's script (an ACL, a proxy without Lua). The CLI
    calls this before serving."""
    if settings.redis_url is None:
        return
    client = _redis_client(settings.redis_url, max(1.0, settings.redis_timeout))  # start-up: patient
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
