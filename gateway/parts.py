"""The gateway's long-lived parts (upstream client, limiter, cache, lookup source): how they are
built from the settings, closed, and checked for readiness. ``app.py`` owns them in its lifespan."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from gateway.clock import Clock
from gateway.loading.batcher import Batcher
from gateway.loading.cache import CacheTTLs, MemoryCache, SummaryCache
from gateway.loading.limiter import Admission, Limiter, SlidingWindowLimiter
from gateway.loading.sources import DirectSource, SummarySource
from gateway.observability import Metrics
from gateway.settings import Settings
from gateway.vod.client import Admit, VodClient
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

    async def aclose(self) -> None:
        closer = getattr(self.source, "aclose", None)
        if closer is not None:
            await closer()
        await self.http.aclose()


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
    limiter = SlidingWindowLimiter(settings.vod_qps, clock, window=1.0, margin=settings.vod_qps_margin)
    admission = Admission(limiter, clock, on_wait=metrics.limiter_wait.observe)
    ttls = CacheTTLs(settings.cache_ttl_active, settings.cache_ttl_terminal, settings.cache_ttl_not_found)
    cache = MemoryCache(ttls, clock, settings.cache_max_entries) if ttls.enabled else None

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
    return Parts(http, client, limiter, admission, cache, source)


_ready_cache: dict[str, tuple[float, str]] = {}


async def readiness(parts: Parts | None, settings: Settings) -> dict[str, str]:
    """Is the upstream reachable (any HTTP answer to an unsigned GET counts; cached 5 s)?"""
    if parts is None:
        return {"upstream": "starting"}
    cached = _ready_cache.get(settings.vod_endpoint)
    if cached is not None and cached[0] > time.monotonic():
        return {"upstream": cached[1]}
    try:
        await parts.http.get(settings.vod_endpoint + "/", timeout=2.0)
        state = "ok"
    except httpx.HTTPError:
        state = "unreachable"
    _ready_cache[settings.vod_endpoint] = (time.monotonic() + 5.0, state)
    return {"upstream": state}
