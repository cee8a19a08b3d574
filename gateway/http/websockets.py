"""GraphQL over WebSocket (graphql-transport-ws and legacy graphql-ws), adapted: the API key in
``connection_init`` for clients that can't send headers, a coded error at the per-connection
subscription limit and at the per-key and per-process ones (``ws_slots.py``), persisted queries and
the safelist as over HTTP (``persisted.py``), and text frames."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage as TransportInitMessage,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage as LegacyInitMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage

from gateway.http.auth import ApiKeys, caller_of
from gateway.http.rejections import CodedRefusal
from gateway.http.ws_messages import (
    NOT_AN_OBJECT,
    close_reason,
    legacy_error,
    legacy_problem,
    transport_problem,
)
from gateway.http.ws_outbox import Outbox
from gateway.http.ws_published import start_published
from gateway.http.ws_slots import OperationSlots
from gateway.schema.context import Context
from gateway.schema.errors import ErrorCode
from gateway.schema.fanout import encode_message


def subscription_limit_error(limit: int) -> dict[str, Any]:
    return {
        "message": f"Too many operations on this connection: at most {limit} at once "
        "(GATEWAY_SUBSCRIPTIONS_PER_CONNECTION); complete one or open another connection",
        "extensions": {"code": ErrorCode.BAD_USER_INPUT.value, "limit": limit},
    }


def _over_limit(limit: int | None, open_ops: Mapping[str, object], op_id: str) -> dict[str, Any] | None:
    """The error for a new operation on a connection that has ``limit`` open (None: it may run)."""
    if limit is None or len(open_ops) < limit or op_id in open_ops:
        return None
    return subscription_limit_error(limit)


def _slots(view: object) -> OperationSlots | None:
    slots = getattr(view, "operation_slots", None)
    return slots if isinstance(slots, OperationSlots) else None


def _remember_params(context: Context, payload: object) -> None:
    context.connection_params = payload if isinstance(payload, dict) else None


async def persisted_refusal(view: object, payload: Any) -> dict[str, Any] | None:
    """The operation's document from a persisted query's hash (and the safelist's refusal, the same
    as over HTTP): ``payload["query"]`` is set to it; or the error to answer instead."""
    persisted = getattr(view, "persisted", None)
    if persisted is None or not isinstance(payload, dict):
        return None
    extensions = payload.get("extensions")
    try:
        payload["query"] = await persisted.document(
            payload.get("query"), extensions if isinstance(extensions, dict) else None
        )
    except CodedRefusal as exc:
        return exc.error
    return None


def check_connection_key(context: Context, keys: ApiKeys) -> str | None:
    """A WebSocket that came without a valid Authorization header (browsers can't set one) must
    bring ``{"Authorization": "Bearer <key>"}`` in its connection_init payload; else it is refused
    (4403, as the protocol says). Returns the tenant of a key found in the payload."""
    connection = context.request
    if connection is None or caller_of(connection).verified:
        return None
    params = context.connection_params or {}
    header = next((v for k, v in params.items() if str(k).lower() == "authorization"), "")
    tenant = keys.tenant_of(header) if isinstance(header, str) else None
    if tenant is None:
        raise ConnectionRejectionError(
            {
                "message": 'Missing or invalid API key: send {"Authorization": "Bearer <key>"} '
                "in the connection_init payload",
                "extensions": {"code": ErrorCode.UNAUTHENTICATED.value},
            }
        )
    return tenant


INCREMENTAL_OVER_WS = (
    "Incremental delivery (@defer, @stream) is not supported over graphql-transport-ws: send the "
    "operation over HTTP with Accept: multipart/mixed or text/event-stream"
)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    _outbox: Outbox | None = None  # published operations' frames (ws_published.py), made on first need

    async def _reject_incremental_delivery(self, operation: Operation[Context, None]) -> None:
        """Strawberry's refusal of an incremental result (the hook it calls when a result is one),
        with the gateway's code: every error a client sees has one."""
        error = GraphQLError(INCREMENTAL_OVER_WS, extensions={"code": ErrorCode.BAD_REQUEST.value})
        await operation.send_initial_errors([error])

    async def handle_message(self, message: Any) -> None:
        problem = transport_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)  # close 4400, as the protocol says
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: TransportInitMessage) -> None:
        _remember_params(self.context, message.get("payload"))
        await super().handle_connection_init(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        refusal = _over_limit(self.max_subscriptions_per_connection, self.operations, message["id"])
        if refusal is None and self.connection_acknowledged:
            refusal = await persisted_refusal(self.view, message.get("payload"))
        slots, tenant = _slots(self.view), self.context.tenant
        if refusal is None and slots is not None and self.connection_acknowledged:
            if message["id"] not in self.operations:
                refusal = slots.acquire(tenant)
                if refusal is None:
                    await self._start(message)
                    operation = self.operations.get(message["id"])
                    slots.hold(tenant, operation.task if operation is not None else None)
                    return
        if refusal is not None and self.connection_acknowledged:
            error = {"id": message["id"], "type": "error", "payload": [refusal]}
            await self.send_message(error)  # type: ignore[arg-type]
            return
        if refusal is None and self.connection_acknowledged:
            await self._start(message)
            return
        await super().handle_subscribe(message)

    async def _start(self, message: SubscribeMessage) -> None:
        """Published, if its document is (``ws_published.py``); else Strawberry's operation."""
        if self._outbox is None:
            self._outbox = Outbox(self.websocket.send_text)  # type: ignore[attr-defined]
        if not start_published(self, message, self._outbox):
            await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        await super().shutdown()  # every operation ended: nothing of theirs waits in the outbox
        if self._outbox is not None:
            self._outbox.close()


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """graphql-ws has no connection_init deadline of its own: the same as graphql-transport-ws's
    (close 4408), so a socket that never initialises doesn't stay open."""

    _init_received = False

    async def handle(self) -> None:
        deadline = asyncio.get_running_loop().create_task(self._close_without_init())
        try:
            await super().handle()
        finally:
            deadline.cancel()

    async def _close_without_init(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self._init_received:
            await self.websocket.close(4408, "Connection initialisation timeout")

    async def handle_message(self, message: Any) -> None:
        problem = legacy_problem(message)
        if problem is not None:
            await self.send_message(legacy_error(message, problem))  # type: ignore[arg-type]
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: LegacyInitMessage) -> None:
        self._init_received = True
        _remember_params(self.context, message.get("payload"))
        await super().handle_connection_init(message)

    async def handle_start(self, message: StartMessage) -> None:
        refusal = _over_limit(self.max_subscriptions_per_connection, self.tasks, message["id"])
        if refusal is None and self.connection_acknowledged:
            refusal = await persisted_refusal(self.view, message.get("payload"))
        slots, tenant = _slots(self.view), self.context.tenant
        if refusal is None and slots is not None and self.connection_acknowledged:
            if message["id"] not in self.tasks:
                refusal = slots.acquire(tenant)
                if refusal is None:
                    await super().handle_start(message)
                    slots.hold(tenant, self.tasks.get(message["id"]))
                    return
        if refusal is not None and self.connection_acknowledged:
            error = {"type": "error", "id": message["id"], "payload": refusal}
            await self.send_message(error)  # type: ignore[arg-type]
            return
        await super().handle_start(message)


class TextFramesAdapter(ASGIWebSocketAdapter):
    """Both protocols' messages are JSON text: send text frames (a browser hands a binary frame
    to graphql-ws as a Blob, which it cannot parse; encode_json's orjson bytes would go binary)."""

    async def send_json(self, message: Any) -> None:
        # an event shared by subscribers with this selection: its bytes, encoded once (fanout.py)
        text = encode_message(message) if message.__class__ is dict else None
        await self.send_text(orjson.dumps(message).decode() if text is None else text)

    async def send_text(self, text: str) -> None:
        """One message, already JSON (a published subscription's: ``ws_published.py``)."""
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        """Every message of both protocols is a JSON object. graphql-transport-ws closes the socket
        for anything else (4400); graphql-ws (which asks to ignore parsing errors) is handed a
        marker, which its handler answers with an error message. Never a traceback."""
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                try:
                    message = self.view.decode_json(text)
                except ValueError as exc:  # orjson's JSONDecodeError, invalid UTF-8 included
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from exc
                    message = None
                if isinstance(message, dict):
                    yield message
                elif ignore_parsing_errors:
                    yield {NOT_AN_OBJECT: True}
                else:
                    await self.close(4400, "Invalid message received")
                    return
        except KeyError as exc:  # a binary frame
            raise NonTextMessageReceived from exc
        except WebSocketDisconnect:
            pass

    async def close(self, code: int, reason: str) -> None:
        await self.ws.close(code=code, reason=close_reason(reason))
