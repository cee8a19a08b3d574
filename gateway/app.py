"""``create_app(settings)``: the one place that wires the gateway's parts together."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

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

from gateway.clock import Clock, MonotonicClock
from gateway.http import explorer
from gateway.http.middleware import ApiKeyMiddleware, BodyLimitMiddleware, RequestIdMiddleware
from gateway.http.response_cache import ResponseCache
from gateway.http.view import GatewayGraphQL
from gateway.loading.batcher import Batcher
from gateway.loading.loader import summary_loader
from gateway.loading.parts import Parts, build_parts, readiness
from gateway.loading.poller import Poller
from gateway.metrics import Metrics
from gateway.schema.build import build_schema
from gateway.schema.subscription import LiveParts
from gateway.settings import Settings

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

# Live progress over a WebSocket: each video's summary at once, then again on every change;
# completes when all have finished. With API keys on, put {"Authorization": "Bearer <key>"}
# in this tab's Headers (sent in connection_init).
subscription Progress {
  transcodeSummaryUpdates(videoIds: ["a1b2c3d4e5f6"]) {
    videoId
    transcodeStatus
    progress
  }
}
"""


class GraphQLEndpoint:
    """/graphql: the explorer for browsers (GET, Accept: text/html), GraphQL for everything else."""

    def __init__(self, view: GatewayGraphQL, settings: Settings, default_query: str) -> None:
        self._view = view
        self._settings = settings
        self._default_query = default_query

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and self._settings.graphiql:
            request = Request(scope, receive)
            if explorer.wants_html(request):
                await explorer.graphiql_page(default_query=self._default_query)(scope, receive, send)
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

    def new_loader() -> DataLoader[str, Any]:
        return summary_loader(holder["parts"].source)

    responses = ResponseCache(settings.response_cache_ttl, clock) if settings.response_cache_ttl > 0 else None
    view = GatewayGraphQL(
        schema,
        settings=settings,
        loader_factory=new_loader,
        metrics=metrics,
        response_cache=responses,
        graphql_ide=None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        max_subscriptions_per_connection=settings.subscription_max_per_connection,
        allowed_origins=settings.cors_origins,  # cross-origin pages allowed by CORS may subscribe too
    )
    endpoint = GraphQLEndpoint(view, settings, default_query)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        parts = build_parts(settings, clock, metrics, transport)
        holder["parts"] = parts
        app.state.parts = parts
        source = parts.source
        # polls skip the cache and yield to queries; the per-request baseline has no such lane
        poll = source.poll_many if isinstance(source, Batcher) else source.load_many
        poller = Poller(poll, clock, settings.poll_interval, on_round=metrics.poll_round)
        metrics.subscribed_ids.set_function(lambda: poller.watched)
        metrics.subscriptions.set_function(lambda: poller.watches)
        app.state.live = LiveParts(source, poller)
        poller.start()
        try:
            yield
        finally:
            await poller.aclose()
            await parts.aclose()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        checks = await readiness(holder.get("parts"), settings)
        # Redis down is degraded mode (the gateway still answers within its local share): ready
        ok = checks.get("upstream") == "ok"
        status = "unavailable" if not ok else "degraded" if checks.get("redis", "ok") != "ok" else "ok"
        return JSONResponse({"status": status, "checks": checks}, 200 if ok else 503)

    async def metrics_endpoint(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Mount("/graphql/static", app=explorer.static_app()),
        Route("/graphql", endpoint),  # every method: the view answers 405 as GraphQL JSON
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
        middleware.append(
            Middleware(
                ApiKeyMiddleware, keys=settings.api_keys, on_reject=rejected, explorer=settings.graphiql
            )
        )
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.metrics = metrics
    app.state.settings = settings
    return app
