"""``create_app(settings)``: the one place that wires the gateway's parts together."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from aiodataloader import DataLoader
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from gateway import graphiql
from gateway.clock import Clock, MonotonicClock
from gateway.graphql_view import GatewayGraphQL
from gateway.loading.batcher import Batcher
from gateway.loading.cache import CacheTTLs, MemoryCache, SummaryCache
from gateway.loading.limiter import Admission, Limiter, SlidingWindowLimiter
from gateway.loading.sources import DirectSource, SummarySource, summary_loader
from gateway.middleware import ApiKeyMiddleware, BodyLimitMiddleware, RequestIdMiddleware
from gateway.observability import Metrics
from gateway.schema.build import build_schema
from gateway.settings import Settings
from gateway.vod.client import Admit, VodClient
from gateway.vod.models import SummaryPage

log = logging.getLogger("gateway.app")

DEFAULT_QUERY = """# Transcoding summaries of a few videos; replace the IDs with yours.
query Summaries {
  transcodeSummaries(videoIds: ["a1b2c3d4e5f6", "no-such-video"]) {
    videoId
    transcodeStatus
    progress
    jobs { definition format transcodeJobStatus transcodeProgress fileSize }
  }
}
"""


@dataclass
class Parts:
    """The long-lived parts, owned by the app's lifespan and shared by every request."""

    http: httpx.AsyncClient
    client: VodClient
    limiter: Limiter
    admission: Admission
    cache: SummaryCache | None
    source: SummarySource


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
            fetch, admission, clock, cache=cache, max_wait=settings.vod_max_wait, on_cache=metrics.cache
        )
    else:
        source = DirectSource(
            fetch, admission, clock, cache=cache, max_wait=settings.vod_max_wait, on_cache=metrics.cache
        )
    return Parts(http, client, limiter, admission, cache, source)


class GraphQLEndpoint:
    """/graphql: the explorer for browsers (GET, Accept: text/html), GraphQL for everything else."""

    def __init__(self, view: GatewayGraphQL, settings: Settings, default_query: str) -> None:
        self._view = view
        self._settings = settings
        self._default_query = default_query

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and self._settings.graphiql:
            request = Request(scope, receive)
            if graphiql.wants_html(request):
                await graphiql.graphiql_page(default_query=self._default_query)(scope, receive, send)
                return
        await self._view(scope, receive, send)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    default_query: str = DEFAULT_QUERY,
) -> Starlette:
    """The gateway as an ASGI app; its lifespan opens and closes the upstream client."""
    clock = clock or MonotonicClock()
    metrics = Metrics()
    schema = build_schema(settings)
    holder: dict[str, Parts] = {}

    def new_loader() -> DataLoader:
        return summary_loader(holder["parts"].source)

    view = GatewayGraphQL(
        schema,
        settings=settings,
        loader_factory=new_loader,
        metrics=metrics,
        graphql_ide=None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
    )
    endpoint = GraphQLEndpoint(view, settings, default_query)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        parts = build_parts(settings, clock, metrics, transport)
        holder["parts"] = parts
        app.state.parts = parts
        try:
            yield
        finally:
            closer = getattr(parts.source, "aclose", None)
            if closer is not None:
                await closer()
            await parts.http.aclose()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        checks = await readiness(holder.get("parts"), settings)
        ok = all(c == "ok" for c in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503)

    async def metrics_endpoint(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Mount("/graphql/static", app=graphiql.static_app()),
        Route("/graphql", endpoint, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", endpoint),
    ]
    middleware = [Middleware(RequestIdMiddleware)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["x-request-id"],
                max_age=600,
            )
        )
    rejected = metrics.operations.labels("rejected").inc
    middleware.append(Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, on_reject=rejected))
    if settings.api_keys:
        middleware.append(Middleware(ApiKeyMiddleware, keys=settings.api_keys, on_reject=rejected))
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.metrics = metrics
    app.state.settings = settings
    return app


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
