"""The gateway's routes, each with the protection it needs declared on it: the probes and metrics
are open, ``/graphql`` needs an API key when keys are configured (the explorer page excepted)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from gateway.config.settings import Settings
from gateway.http import explorer
from gateway.http.auth import ApiKeys, RequireApiKey
from gateway.http.callbacks import callback_route
from gateway.http.csrf import CSRF_MESSAGE, looks_forged
from gateway.http.draining import Draining
from gateway.http.http_caching import NoStoreGets
from gateway.http.rejections import reject
from gateway.http.view import GatewayGraphQL, parts_of
from gateway.http.worker_metrics import WorkerMetrics
from gateway.metrics import Metrics
from gateway.schema.errors import ErrorCode


class GraphQLEndpoint:
    """/graphql: the explorer for browsers (GET, Accept: text/html), GraphQL for everything else
    (first held to Apollo's CSRF prevention when it is on, as Apollo Server does after its landing page)."""

    def __init__(self, view: GatewayGraphQL, settings: Settings, default_query: str) -> None:
        self._view = view
        self._settings = settings
        self._default_query = default_query

    def is_explorer(self, scope: Scope) -> bool:
        return (
            self._settings.graphiql
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and explorer.wants_html(Request(scope))
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.is_explorer(scope):
            await explorer.graphiql_page(default_query=self._default_query)(scope, receive, send)
            return
        if self._settings.csrf_prevention and scope["type"] == "http" and looks_forged(Headers(scope=scope)):
            await reject(CSRF_MESSAGE, ErrorCode.BAD_REQUEST, 400)(scope, receive, send)
            return
        await self._view(scope, receive, send)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def readiness_endpoint(draining: Draining) -> Route:
    async def readyz(request: Request) -> Response:
        if draining.active:  # shutting down: the load balancer should stop sending, at once
            return JSONResponse({"status": "draining", "checks": {}}, 503)
        checks = await parts_of(request).readiness.check()
        # Redis down is degraded mode (the gateway still answers within its local share): ready
        ok = checks.get("upstream") == "ok"
        status = "unavailable" if not ok else "degraded" if checks.get("redis", "ok") != "ok" else "ok"
        return JSONResponse({"status": status, "checks": checks}, 200 if ok else 503)

    return Route("/readyz", readyz, methods=["GET"])


def metrics_endpoint(metrics: Metrics, workers: WorkerMetrics | None = None) -> Route:
    async def endpoint(request: Request) -> Response:
        body = await workers.exposition() if workers is not None else generate_latest(metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", endpoint, methods=["GET"])


def routes(
    settings: Settings,
    view: GatewayGraphQL,
    metrics: Metrics,
    default_query: str,
    draining: Draining,
    workers: WorkerMetrics | None = None,
) -> list[BaseRoute]:
    graphql = GraphQLEndpoint(view, settings, default_query)
    keys = ApiKeys(settings.api_keys)
    guard: list[Middleware] = []
    if keys:
        rejected = metrics.operations.labels("rejected").inc
        guard = [Middleware(RequireApiKey, keys=keys, on_reject=rejected, exempt=graphql.is_explorer)]
    public: list[BaseRoute] = []
    if settings.callbacks is not None:  # its own signature, not an API key (a VOD server has none)
        counted = metrics.callbacks.labels
        public.append(callback_route(settings, settings.callbacks, lambda result: counted(result).inc()))
    return [
        *public,
        Route("/healthz", healthz, methods=["GET"]),
        readiness_endpoint(draining),
        metrics_endpoint(metrics, workers),
        Mount("/graphql/static", app=explorer.static_app()),
        # every method: the view answers 405 as GraphQL JSON; a GET refusal (the guard's too) is no-store
        Route("/graphql", graphql, middleware=[Middleware(NoStoreGets), *guard]),
        WebSocketRoute("/graphql", graphql, middleware=guard),
    ]
