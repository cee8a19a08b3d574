"""The Strawberry ASGI view, adapted: per-request context, an ``extensions.code`` on every error,
GraphQL-shaped JSON for HTTP-level failures, and orjson for the body. Over WebSockets: the API key
in ``connection_init`` for clients that can't send headers, and a coded error at the per-connection
subscription limit."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any, cast

import orjson
from aiodataloader import DataLoader
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.types import QueryParams
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage as TransportInitMessage,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage as LegacyInitMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from gateway.http.middleware import ApiKeys
from gateway.http.response_cache import ResponseCache
from gateway.loading.cache import CacheTTLs
from gateway.metrics import Metrics
from gateway.schema.context import Context
from gateway.settings import Settings

log = logging.getLogger("gateway.graphql")

INTERNAL = "INTERNAL_SERVER_ERROR"
NO_QUERY = (
    'No GraphQL query in the request: POST JSON {"query": ...} or GET ?query=...; '
    "a browser opening this URL gets the GraphiQL explorer (unless GATEWAY_GRAPHIQL=false)"
)
_CODE_BY_STATUS = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 415: "BAD_REQUEST"}


def error_body(message: str, code: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


def format_error(error: GraphQLError) -> dict[str, Any]:
    """The error as sent: every error gets a code; unexpected exceptions are masked."""
    original = error.original_error
    code = (error.extensions or {}).get("code")
    if code is None and original is not None and not isinstance(original, GraphQLError):
        masked = GraphQLError("Internal server error", path=error.path, nodes=error.nodes)
        formatted = dict(masked.formatted)
        formatted["extensions"] = {"code": INTERNAL}
        return formatted
    formatted = dict(error.formatted)
    if code is None:
        message = error.message
        if message.startswith("Syntax Error"):
            code = "GRAPHQL_PARSE_FAILED"
        elif message.startswith("Variable '$") or "got invalid value" in message:
            code = "BAD_USER_INPUT"
        else:
            code = "GRAPHQL_VALIDATION_FAILED"
        formatted["extensions"] = {**(error.extensions or {}), "code": code}
    return formatted


def subscription_limit_error(limit: int) -> dict[str, Any]:
    return {
        "message": f"Too many operations on this connection: at most {limit} at once "
        "(GATEWAY_SUBSCRIPTIONS_PER_CONNECTION); complete one or open another connection",
        "extensions": {"code": "BAD_USER_INPUT", "limit": limit},
    }


def _over_limit(limit: int | None, open_ops: Mapping[str, object], op_id: str) -> dict[str, Any] | None:
    """The error for a new operation on a connection that has ``limit`` open (None: it may run)."""
    if limit is None or len(open_ops) < limit or op_id in open_ops:
        return None
    return subscription_limit_error(limit)


def _remember_params(context: Context, payload: object) -> None:
    """Keep the connection_init payload where ``on_ws_connect`` can read it (Context has no slot)."""
    if context.request is not None:
        context.request.state.connection_params = payload if isinstance(payload, dict) else None


class _TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_connection_init(self, message: TransportInitMessage) -> None:
        _remember_params(self.context, message.get("payload"))
        await super().handle_connection_init(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        refusal = _over_limit(self.max_subscriptions_per_connection, self.operations, message["id"])
        if refusal is not None and self.connection_acknowledged:
            error = {"id": message["id"], "type": "error", "payload": [refusal]}
            await self.send_message(error)  # type: ignore[arg-type]
            return
        await super().handle_subscribe(message)


class _LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle_connection_init(self, message: LegacyInitMessage) -> None:
        _remember_params(self.context, message.get("payload"))
        await super().handle_connection_init(message)

    async def handle_start(self, message: StartMessage) -> None:
        refusal = _over_limit(self.max_subscriptions_per_connection, self.tasks, message["id"])
        if refusal is not None and self.connection_acknowledged:
            error = {"type": "error", "id": message["id"], "payload": refusal}
            await self.send_message(error)  # type: ignore[arg-type]
            return
        await super().handle_start(message)


class _TextFramesAdapter(ASGIWebSocketAdapter):
    """Both protocols' messages are JSON text: send text frames (a browser hands a binary frame
    to graphql-ws as a Blob, which it cannot parse; encode_json's orjson bytes would go binary)."""

    async def send_json(self, message: Any) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        """Every message of both protocols is a JSON object: a frame such as ``42`` or ``[]``
        closes the socket as the protocol says (4400), instead of a traceback in the server log."""
        async for message in super().iter_json(ignore_parsing_errors=ignore_parsing_errors):
            if not isinstance(message, dict):
                await self.close(4400, "Invalid message received")
                return
            yield message


class GatewayGraphQL(GraphQL[Context, None]):
    websocket_adapter_class = _TextFramesAdapter
    graphql_transport_ws_handler_class = _TransportWSHandler
    graphql_ws_handler_class = _LegacyWSHandler

    def __init__(
        self,
        *args: Any,
        settings: Settings,
        loader_factory: Callable[[], DataLoader[str, Any]],
        metrics: Metrics,
        response_cache: ResponseCache | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._settings = settings
        self._loader_factory = loader_factory
        self._metrics = metrics
        self._responses = response_cache
        self._ttls = CacheTTLs(
            settings.cache_ttl_active, settings.cache_ttl_terminal, settings.cache_ttl_not_found
        )
        self._key_check = ApiKeys(settings.api_keys).allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope=scope, receive=receive)
            key = await self._cache_key(request)
            if key is not None and self._responses is not None:
                hit = self._responses.get(key)
                if hit is not None:
                    self._observe(hit.outcome, hit.codes, cached=True)
                    await Response(hit.body, media_type="application/json")(scope, receive, send)
                    return
            try:
                if request.method == "GET" and "query" not in request.query_params:
                    # Strawberry answers 404 here (it would serve its IDE); say what's missing instead
                    raise HTTPException(400, NO_QUERY)
                response = await self.run(request)
            except HTTPException as exc:
                code = _CODE_BY_STATUS.get(exc.status_code, "BAD_REQUEST")
                response = JSONResponse(error_body(exc.reason, code), status_code=exc.status_code)
                self._observe("rejected", (code,))  # a line and a count, like 401 and 413
            else:
                self._remember(key, request, response)
            await response(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def _cache_key(self, request: Request) -> bytes | None:
        """The raw body of a JSON POST: identical bytes ask the identical operation."""
        if self._responses is None or request.method != "POST":
            return None
        if not request.headers.get("content-type", "").startswith("application/json"):
            return None
        return await request.body()  # Starlette keeps it: the view reads the same bytes again

    def _remember(self, key: bytes | None, request: Request, response: Response) -> None:
        answer: tuple[str, tuple[str, ...], float] | None = getattr(request.state, "answer", None)
        if key is None or answer is None or self._responses is None or response.status_code != 200:
            return
        outcome, codes, ttl = answer
        if set(codes) <= {"VIDEO_NOT_FOUND"}:
            self._responses.put(key, bytes(response.body), ttl, outcome, codes)

    def _observe(self, outcome: str, codes: tuple[str, ...], cached: bool = False) -> None:
        self._metrics.operations.labels(outcome).inc()
        fields: dict[str, object] = {"outcome": outcome}
        if codes:
            fields["errors"] = list(codes)
        if cached:
            fields["cached"] = True
        log.info("graphql operation", extra={"fields": fields})

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        summaries = self._loader_factory()
        if isinstance(request, WebSocket):
            # one context serves the whole connection: its loader must not keep answers for its life
            summaries.cache = False
        context = Context(
            request=request,
            response=response,
            settings=self._settings,
            summaries=summaries,
            ttls=self._ttls,
        )
        request.state.context = context
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A WebSocket that came without a valid Authorization header (browsers can't set one)
        must bring ``{"Authorization": "Bearer <key>"}`` in its connection_init payload."""
        connection = context.request
        if connection is None or not getattr(connection.state, "needs_api_key", False):
            return cast("UnsetType", UNSET)
        params = getattr(connection.state, "connection_params", None) or {}
        header = next((v for k, v in params.items() if str(k).lower() == "authorization"), "")
        if not isinstance(header, str) or not self._key_check(header):
            self._metrics.operations.labels("rejected").inc()
            raise ConnectionRejectionError(
                {
                    "message": 'Missing or invalid API key: send {"Authorization": "Bearer <key>"} '
                    "in the connection_init payload",
                    "extensions": {"code": "UNAUTHENTICATED"},
                }
            )
        return cast("UnsetType", UNSET)

    async def process_result(
        self, request: Request | WebSocket, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data: GraphQLHTTPResponse = {"data": result.data}
        codes: list[str] = []
        if result.errors:
            errors = [format_error(e) for e in result.errors]
            data["errors"] = cast("list[object]", errors)
            codes = sorted({str(e["extensions"]["code"]) for e in errors})
        if result.extensions:
            data["extensions"] = result.extensions
        outcome = "ok" if not codes else ("partial" if result.data else "error")
        self._observe(outcome, tuple(codes))
        context: Context | None = getattr(request.state, "context", None)
        if context is not None and not result.extensions:
            request.state.answer = (outcome, tuple(codes), context.shortest_ttl)
        return data

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        """GET: say which parameter isn't JSON, not "the request body"."""
        try:
            return super().parse_query_params(params)
        except HTTPException as exc:
            if exc.status_code == 400 and "JSON" in exc.reason:
                raise HTTPException(
                    400, "The variables and extensions parameters must be JSON objects"
                ) from None
            raise

    def decode_json(self, data: str | bytes) -> object:
        """orjson: it also refuses invalid UTF-8, as a JSONDecodeError."""
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        """An HTTP body (or a GET parameter): anything but an object or an array (a batch, which
        Strawberry then refuses) is a 400, not a crash further on."""
        decoded = super().parse_json(data)
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, 'Expected a JSON object, such as {"query": "{ __typename }"}')
        return decoded
