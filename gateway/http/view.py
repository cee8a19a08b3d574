"""The Strawberry ASGI view, adapted: a typed per-operation context built from the lifespan's parts,
GraphQL-shaped JSON for HTTP-level failures, the response cache, and orjson for bodies. Error
codes and masking are the schema's (``schema/errors.py``); WebSocket specifics are in
``websockets.py``."""

from __future__ import annotations

import functools
import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any, cast

from aiodataloader import DataLoader
from cross_web import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from gateway.config.settings import Settings
from gateway.http.auth import ApiKeys, caller_of
from gateway.http.bodies import JsonBodies
from gateway.http.csrf import is_json
from gateway.http.graphql_response import (
    NOT_ACCEPTABLE,
    is_request_error,
    needs_multipart,
    negotiated,
    refusal_body,
    wants_graphql_response,
)
from gateway.http.http_caching import cached_get
from gateway.http.persisted import PersistedQueries
from gateway.http.prepared import PreparedAnswers
from gateway.http.rejections import (
    CODE_BY_STATUS,
    NO_QUERY,
    NO_STREAM,
    UNSUPPORTED_TYPE,
    CodedRefusal,
    error_codes,
    observe,
    outcome_of,
)
from gateway.http.response_cache import ResponseCache, cache_key, remember
from gateway.http.streams import (
    TRANSPORTS,
    HttpStreams,
    ItemPaths,
    finished,
    framed,
    one_result_for,
    subscriptions_only,
)
from gateway.http.websockets import (
    LegacyWSHandler,
    TextFramesAdapter,
    TransportWSHandler,
    check_connection_key,
)
from gateway.http.ws_slots import OperationSlots
from gateway.loading.batcher import FlowSource
from gateway.loading.cache import CacheTTLs
from gateway.loading.loader import summary_loader
from gateway.loading.parts import Parts
from gateway.metrics import Metrics
from gateway.schema.context import Context
from gateway.schema.errors import ErrorCode, envelope

log = logging.getLogger("gateway.graphql")


def parts_of(connection: Request | WebSocket) -> Parts:
    """The running parts, from the app's lifespan state (``app.State``)."""
    parts: Parts = connection.state.parts
    return parts


class GatewayGraphQL(JsonBodies, GraphQL[Context, None]):
    websocket_adapter_class = TextFramesAdapter
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    stream_transport_classes_by_protocol = TRANSPORTS

    def __init__(
        self,
        *args: Any,
        settings: Settings,
        metrics: Metrics,
        response_cache: ResponseCache | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._settings = settings
        self._metrics = metrics
        self._responses = response_cache
        self._ttls = CacheTTLs(
            settings.cache_ttl_active, settings.cache_ttl_terminal, settings.cache_ttl_not_found
        )
        self._keys = ApiKeys(settings.api_keys)
        self.operation_slots = OperationSlots(
            settings.subscription_max_total, settings.subscription_max_per_key
        )
        self.persisted = PersistedQueries(settings)
        self.streams = HttpStreams(self.operation_slots)  # HTTP streams count with WebSocket operations
        self._streaming: weakref.WeakSet[Request] = weakref.WeakSet()
        self._item_paths = ItemPaths()
        prepared = getattr(self.schema, "prepared", None)
        self._prepared = PreparedAnswers(prepared, self.persisted) if prepared is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            await self._http(request, scope, receive, send)
        except ClientDisconnect:  # gone before its body was read (or cut off at the body deadline)
            log.info("client disconnected", extra={"fields": {"outcome": "disconnected"}})
        finally:
            self.streams.end(request)  # a stream's slot is free once its response ended, however

    async def _http(self, request: Request, scope: Scope, receive: Receive, send: Send) -> None:
        accept, responses = request.headers.get("accept"), self._responses
        key = await cache_key(request) if responses is not None else None
        context = self._context(request, None)
        if key is not None and responses is not None:
            hit = await responses.fresh(key, context.summaries)  # its lookups primed the loader
            if hit is not None:
                self._observe(hit.outcome, hit.codes, cached=True)
                hit_response = Response(hit.body, media_type="application/json")
                await negotiated(hit_response, accept, None)(scope, receive, send)
                return
        prepared = await self._prepared.answer(request, context) if self._prepared is not None else None
        if prepared is not None:  # a prepared query's answer (http/prepared.py): the same bytes
            self._observe(outcome_of((), cast("ExecutionResult", context.result).data), (), prepared=True)
            await self._respond(key, context, prepared, accept, scope, receive, send)
            return
        try:
            if request.method == "GET" and not {"query", "extensions"} & set(request.query_params):
                # Strawberry answers 404 here (it would serve its IDE); say what's missing instead
                raise HTTPException(400, NO_QUERY)
            if request.method == "POST" and not is_json(request.headers.get("content-type", "")):
                # Strawberry matches a substring: application/jsonx would pass as JSON
                raise HTTPException(400, UNSUPPORTED_TYPE)
            response = await self.run(request, context=context)
        except CodedRefusal as exc:
            response = JSONResponse(refusal_body(exc.body(), accept), status_code=exc.status_code)
            self._observe("rejected", (exc.code,))
        except HTTPException as exc:
            code = CODE_BY_STATUS.get(exc.status_code, ErrorCode.BAD_REQUEST)
            reason = exc.reason + (NO_STREAM if exc.reason.startswith("subscriptions are not") else "")
            response = JSONResponse(refusal_body(envelope(reason, code), accept), status_code=exc.status_code)
            self._observe("rejected", (code.value,))  # a line and a count, like 401 and 413
        else:
            if request.method == "GET" and context.result is not None:
                response = self._cached_get(request, context, response)
        await self._respond(key, context, response, accept, scope, receive, send)

    async def _respond(
        self,
        key: bytes | None,
        context: Context,
        response: Response,
        accept: str | None,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        if self._responses is not None:
            remember(self._responses, key, context, response)
        response = negotiated(response, accept, context.result)
        try:
            await response(scope, receive, send)
        finally:
            await finished(response)

    def _cached_get(self, request: Request, context: Context, response: Response) -> Response:
        codes = error_codes(cast("ExecutionResult", context.result))
        ttl = min(context.shortest_ttl, self._settings.cache_ttl_terminal)
        private, if_none_match = bool(self._keys), request.headers.get("if-none-match")
        return cached_get(response, codes, ttl, private=private, if_none_match=if_none_match)

    def _context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        parts = parts_of(request)
        tenant = caller_of(request).tenant
        source = parts.source.flow(tenant)  # the operation's lookups are one flow of the tenant's
        context = Context(self._settings, self._loader(source, request), parts, self._ttls)
        context.request, context.response, context.tenant, context.flow = (
            request,
            response,
            tenant,
            source.flow,
        )
        context.on_valid_document = self.persisted.validated
        return context

    @staticmethod
    def _loader(source: FlowSource, request: Request | WebSocket) -> DataLoader[str, Any]:
        """The operation's DataLoader, over its flow."""
        summaries = summary_loader(source)
        if isinstance(request, WebSocket):
            # one context serves the whole connection: its loader must not keep answers for its life
            summaries.cache = False
        return summaries

    def should_render_graphql_ide(self, request: Any) -> bool:
        return False  # the explorer is the route's (routes.py): here a GET is always an operation

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The request, with the document a persisted query's hash stands for (``persisted.py``)."""
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData):
            data.query = await self.persisted.document(data.query, data.extensions)
            if data.protocol != "http" and one_result_for(
                data.query, data.operation_name, request.headers.get("accept")
            ):
                data.protocol = "http"  # a query from a client that takes JSON too: one answer
        return data

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        return self._context(request, response)

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        data, context = kwargs.get("request_data"), kwargs.get("context")
        if isinstance(data, GraphQLRequestData) and data.protocol != "http" and isinstance(context, Context):
            return await self._execute_stream(context.tenant, *args, **kwargs)
        request = kwargs.get("request")
        if isinstance(data, GraphQLRequestData) and isinstance(request, Request):
            if needs_multipart(data.query, request.headers.get("accept")):
                raise HTTPException(406, NOT_ACCEPTABLE)
        result = await super().execute_operation(*args, **kwargs)
        if isinstance(context, Context) and isinstance(result, ExecutionResult):
            context.result = result
        return result

    async def _execute_stream(self, tenant: str, *args: Any, **kwargs: Any) -> Any:
        """A multipart or SSE stream: it holds an operation slot until it ends (``streams.py``)."""
        request, data = kwargs.get("request"), kwargs.get("request_data")
        if isinstance(data, GraphQLRequestData):
            subscriptions_only(data.protocol, data.query, data.operation_name)  # or a 406, no slot taken
        hold = self.streams.acquire(tenant, request)
        if isinstance(request, Request):
            self._streaming.add(request)  # its events are not operations of their own (as over WebSockets)
        try:
            results = await super().execute_operation(*args, **kwargs)
        except BaseException:
            hold.release()
            raise
        return self.streams.held(hold, cast("AsyncIterator[Any]", results))

    def _observe(
        self, outcome: str, codes: tuple[str, ...], cached: bool = False, prepared: bool = False
    ) -> None:
        observe(self._metrics.operations, outcome, codes, cached, prepared)

    def _stream_result(self, request: Any, result: Any, transport: Any) -> Any:
        """Strawberry's, except a stream's end at shutdown, which clients retry (``streams.py``)."""
        process = functools.partial(self._process_stream_result, request)
        return framed(result, transport, process, self.encode_json_string)

    async def _process_stream_result(self, request: Any, value: Any, all_pending: list[Any]) -> Any:
        response, pending = await super()._process_stream_result(request, value, all_pending)
        self._item_paths.apply(request, response)  # urql's format too (streams.py)
        return response, pending

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        if self._keys:
            try:
                tenant = check_connection_key(context, self._keys)
            except Exception:
                self._metrics.operations.labels("rejected").inc()
                raise
            if tenant is not None and context.parts is not None and context.request is not None:
                context.tenant = tenant  # the key came in connection_init: its tenant's flows
                source = context.parts.source.flow(tenant)
                context.summaries, context.flow = self._loader(source, context.request), source.flow
        return cast("UnsetType", UNSET)

    async def process_result(
        self, request: Request | WebSocket, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data: GraphQLHTTPResponse = {"data": result.data}
        if isinstance(request, Request) and wants_graphql_response(request.headers.get("accept")):
            if is_request_error(result.data, result.errors):
                del data["data"]  # the spec's type: no data entry when execution never began
        if result.errors:
            data["errors"] = [e.formatted for e in result.errors]
        if result.extensions:
            data["extensions"] = result.extensions
        codes = error_codes(result)
        if not (isinstance(request, Request) and request in self._streaming):
            self._observe(outcome_of(codes, result.data), codes)
        return data
