"""The gateway's long-lived parts (upstream client, limiter, cache, scheduler, poller, readiness):
built once from the settings in the app's lifespan, shared by every operation, closed at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from opentelemetry import trace
from opentelemetry.trace import NoOpTracer, Tracer

from gateway.clock import Clock
from gateway.config.settings import Settings
from gateway.loading.batcher import Batcher
from gateway.loading.cache import CacheTTLs, MemoryCache, SummaryCache
from gateway.loading.fair import Budget
from gateway.loading.limiter import Admission, Limiter, SlidingWindowLimiter, attempt_bound
from gateway.loading.memory import MemoryReturn
from gateway.loading.poller import Poller
from gateway.loading.redis_events import CallbackFanout
from gateway.loading.redis_link import RedisLink
from gateway.loading.redis_replicas import ReplicaCount
from gateway.loading.refetch import Refetcher
from gateway.loading.shared import redis_parts
from gateway.metrics import Metrics
from gateway.vod.client import Admit, VodClient
from gateway.vod.models import SummaryPage

READY_TTL = 5.0
"""Seconds a readiness answer about the upstream is reused: probes must not cost upstream requests."""


@dataclass
class Parts:
    """The long-lived parts, owned by the app's lifespan and shared by every request."""

    http: httpx.AsyncClient
    client: VodClient
    limiter: Limiter
    admission: Admission
    cache: SummaryCache | None
    source: Batcher
    poller: Poller
    readiness: Readiness
    redis: RedisLink | None = None
    tracer: Tracer = field(default_factory=NoOpTracer)
    fanout: CallbackFanout | None = None  # callbacks shared with the other replicas (Redis)
    replicas: ReplicaCount | None = None  # the live replica count for the degraded-mode share (Redis)
    refetcher: Refetcher = field(init=False)
    memory: MemoryReturn = field(init=False)  # given back once a crowd of subscriptions is gone

    def __post_init__(self) -> None:
        self.refetcher = Refetcher(self.source, self.poller, self.poller.clock, self.cache)
        poller = self.poller
        self.memory = MemoryReturn(lambda: poller.watches, poller.clock)
        if isinstance(self.cache, MemoryCache):  # its summaries polled during a crowd: copied after
            self.memory.rehome.append(self.cache.rehome)

    def start(self) -> None:
        self.poller.start()
        self.memory.start()
        if self.replicas is not None:
            self.replicas.start()
        if self.fanout is not None:
            self.fanout.start(self.refetcher.remote)
            self.refetcher.publish_to(self.fanout.publish)

    async def aclose(self) -> None:
        await self.refetcher.aclose()
        if self.fanout is not None:
            await self.fanout.aclose()
        await self.memory.aclose()
        await self.poller.aclose()
        await self.source.aclose()
        await self.http.aclose()
        if self.replicas is not None:
            await self.replicas.aclose()
        if self.redis is not None:
            drain = getattr(self.limiter, "drain", None)
            if drain is not None:  # releases still on their way to Redis
                await drain()
            await self.redis.aclose()


class Readiness:
    """Is the upstream reachable (any HTTP answer to an unsigned GET counts; remembered for
    :data:`READY_TTL`)? And Redis, when configured (the limiter's script runs)?"""

    def __init__(self, http: httpx.AsyncClient, endpoint: str, clock: Clock, redis: RedisLink | None) -> None:
        self._http = http
        self._url = endpoint + "/"
        self._clock = clock
        self._redis = redis
        self._upstream: tuple[float, str] | None = None  # (valid until, state)

    async def check(self) -> dict[str, str]:
        checks = {"upstream": await self._upstream_state()}
        if self._redis is not None:
            # readiness probes drive the switch back too: an idle replica would stay degraded otherwise
            self._redis.probe_if_due()
            checks["redis"] = "ok" if await self._redis.ping() else "unreachable"
        return checks

    async def _upstream_state(self) -> str:
        if self._upstream is not None and self._upstream[0] > self._clock.now():
            return self._upstream[1]
        try:
            await self._http.get(self._url, timeout=2.0)
            state = "ok"
        except httpx.HTTPError:
            state = "unreachable"
        self._upstream = (self._clock.now() + READY_TTL, state)
        return state


def budgets(settings: Settings) -> dict[str, Budget]:
    """Each API key's tenant and its share (keys sharing a name: the first entry's)."""
    shares: dict[str, Budget] = {}
    for key in settings.api_keys:
        shares.setdefault(key.tenant, Budget(key.weight, key.cap))
    return shares


def build_parts(
    settings: Settings,
    clock: Clock,
    metrics: Metrics,
    transport: httpx.AsyncBaseTransport | None = None,
    tracer: Tracer | None = None,
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
        on_attempt=_observed(metrics),
    )
    ttls = CacheTTLs(settings.cache_ttl_active, settings.cache_ttl_terminal, settings.cache_ttl_not_found)
    limiter: Limiter
    cache: SummaryCache | None
    link: RedisLink | None = None
    replicas: ReplicaCount | None = None
    if settings.redis_url is None:
        limiter = SlidingWindowLimiter(
            settings.vod_qps,
            clock,
            window=1.0,
            margin=settings.vod_qps_margin,
            hold=attempt_bound(settings.vod_timeout),
        )
        cache = MemoryCache(ttls, clock, settings.cache_max_entries) if ttls.enabled else None
    else:
        account = settings.credentials.access_key_id
        shared = redis_parts(settings, settings.redis_url, account, clock, metrics, ttls)
        limiter, cache, link, replicas = shared.limiter, shared.cache, shared.link, shared.replicas
    admission = Admission(limiter, clock, on_wait=metrics.limiter_wait.observe)

    async def fetch(ids: list[str], deadline: float, admit: Admit) -> SummaryPage:
        return await client.get_transcode_summary(ids, deadline=deadline, admit=admit)

    source = Batcher(
        fetch,
        admission,
        clock,
        cache=cache,
        max_wait=settings.vod_max_wait,
        on_cache=metrics.cache,
        pace=(1.0 + settings.vod_qps_margin) / settings.vod_qps,
        coalesce=settings.coalesce,
        budgets=budgets(settings),
        on_served=metrics.served,
        on_queued=metrics.queued,
        tracer=tracer,
    )
    metrics.waiting_by_tenant(source.queue.waiting_by_tenant)
    # polls skip the cache and yield to queries
    poller = Poller(source.poll_many, clock, settings.poll_interval, on_round=metrics.poll_round)
    metrics.subscribed_ids.set_function(lambda: poller.watched)
    metrics.subscriptions.set_function(lambda: poller.watches)
    readiness = Readiness(http, settings.vod_endpoint, clock, link)
    fanout = None
    if settings.redis_url is not None:
        account = settings.credentials.access_key_id
        fanout = CallbackFanout(settings.redis_url, account, clock, max(1.0, settings.redis_timeout))
    tracer = tracer or NoOpTracer()
    return Parts(
        http, client, limiter, admission, cache, source, poller, readiness, link, tracer, fanout, replicas
    )


def _observed(metrics: Metrics) -> Callable[[str, int, float], None]:
    """Each upstream attempt: counted, and an event on its call's span (current in ``loading/call.py``)."""

    def on_attempt(outcome: str, ids: int, seconds: float) -> None:
        metrics.upstream_attempt(outcome, ids, seconds)
        trace.get_current_span().add_event(
            "vod.attempt", {"vod.outcome": outcome, "duration_ms": seconds * 1000}
        )

    return on_attempt
