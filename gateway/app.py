"""``create_app(settings)``: the one place that wires the gateway's parts together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import TypedDict

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)

from gateway.clock import Clock, MonotonicClock
from gateway.config.settings import Settings
from gateway.http.draining import Draining
from gateway.http.middleware import BodyLimitMiddleware, RequestIdMiddleware
from gateway.http.response_cache import ResponseCache
from gateway.http.routes import routes
from gateway.http.view import GatewayGraphQL
from gateway.http.worker_metrics import WorkerMetrics
from gateway.loading.parts import Parts, build_parts
from gateway.metrics import Metrics
from gateway.schema.build import build_schema
from gateway.schema.fanout import SHARED
from gateway.tracing import OFF, Tracing

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


class State(TypedDict):
    """The lifespan state: what every request and connection finds in ``request.state``."""

    parts: Parts


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    default_query: str = DEFAULT_QUERY,
    on_started: Callable[[Parts], None] | None = None,
    tracing: Tracing = OFF,
    draining: Draining | None = None,
    worker: tuple[Path, int] | None = None,
) -> Starlette:
    """The gateway as an ASGI app; its lifespan builds the long-lived parts, and closes them.
    ``on_started`` (for tests) is handed the parts once they run. ``tracing``: where spans go
    (``tracing_from_env()`` in the CLI); its provider is flushed when the app stops. ``draining``:
    set by the server at SIGTERM (``http/server.py``); ``/readyz`` answers 503 from then on.
    ``worker``: a ``serve --workers`` worker's metrics directory and index (``/metrics`` answers
    every worker's: ``http/worker_metrics.py``)."""
    clock = clock or MonotonicClock()
    metrics = Metrics()
    siblings = WorkerMetrics(worker[0], worker[1], metrics.registry) if worker is not None else None
    responses = None
    if settings.response_cache_ttl > 0:
        counted = metrics.response_cache.labels
        responses = ResponseCache(settings.response_cache_ttl, clock, on_result=lambda r: counted(r).inc())
    view = GatewayGraphQL(
        build_schema(settings, traced=tracing.enabled),
        settings=settings,
        metrics=metrics,
        response_cache=responses,
        graphql_ide=None,
        subscription_protocols=(
            GRAPHQL_TRANSPORT_WS_PROTOCOL,
            GRAPHQL_WS_PROTOCOL,
            MULTIPART_SUBSCRIPTION_PROTOCOL,  # Apollo Client's HttpLink (http/streams.py)
            GRAPHQL_SSE_PROTOCOL,  # graphql-sse, distinct connections mode
        ),
        max_subscriptions_per_connection=settings.subscription_max_per_connection,
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout),  # graphql-ws too
        allowed_origins=settings.cors_origins,  # cross-origin pages allowed by CORS may subscribe too
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        parts = build_parts(settings, clock, metrics, transport, tracing.tracer)
        if responses is not None:  # a callback's refetch drops the answers built from its videos
            cache = responses
            parts.refetcher.on_refreshed(lambda ids, outcomes: cache.forget(ids))
        if parts.redis is not None:  # persisted documents registered on one replica are known to all
            view.persisted.store.share(parts.redis)
        parts.memory.on_release.append(SHARED.clear)  # the events only closed subscriptions needed
        parts.start()
        if siblings is not None:
            await siblings.start()
        if settings.gc_freeze:
            # what start-up built (schema, parts, modules) lives as long as the process: frozen, the
            # full collections that requests' garbage triggers don't walk it (bench/cpu.py --gc)
            gc.collect()
            gc.freeze()
        if on_started is not None:
            on_started(parts)
        try:
            yield {"parts": parts}
        finally:
            if settings.gc_freeze:
                gc.unfreeze()  # what this app held can be collected once it has stopped
            if siblings is not None:
                await siblings.aclose()
            await parts.aclose()
            await asyncio.to_thread(tracing.shutdown)  # flushes the last spans (HTTP, blocking)

    middleware = [Middleware(RequestIdMiddleware)]
    if settings.allowed_hosts:  # before anything answers: a DNS-rebinding page's Host is refused (400)
        hosts = list(settings.allowed_hosts)
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=hosts, www_redirect=False))
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
    app = Starlette(
        routes=routes(settings, view, metrics, default_query, draining or Draining(), siblings),
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.http_streams = view.streams  # the server ends them at shutdown (http/server.py)
    return app
