"""graphql-transport-ws operations run from a published subscription (``schema/published.py``):
the messages the standard path would send, the same bytes, without its per-event pipeline.

The operation is registered as Strawberry's own (an :class:`Operation` whose task is
:func:`run_published`), so everything around it is unchanged: a client's ``complete`` or a dropped
socket cancels the task, the slot is held by it (``ws_slots.py``), a repeated ``id`` closes 4409.
Each ``next`` is the payload's JSON spliced into ``{"id":…,"type":"next","payload":…}``; the
``complete`` once every video has finished is Strawberry's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

from gateway.schema.context import Context
from gateway.schema.prepared import PreparedOperations
from gateway.schema.published import Published, published_events

log = logging.getLogger("gateway.subscriptions")


def start_published(handler: BaseGraphQLTransportWSHandler[Context, None], message: SubscribeMessage) -> bool:
    """Start ``message``'s operation published, if its document is (True); else nothing happens.
    The caller has checked the connection, the operation limit and the slots."""
    prepared: PreparedOperations | None = getattr(handler.schema, "prepared", None)
    payload = message["payload"]
    query, name = payload.get("query"), payload.get("operationName")
    if prepared is None or query.__class__ is not str or message["id"] in handler.operations:
        return False
    subscription = prepared.subscription(query, name)
    if subscription is None:
        return False
    variables = payload.get("variables")
    events = published_events(subscription, handler.context, variables, prepared.schema)
    if events is None:
        return False
    operation: Operation[Context, None] = Operation(handler, message["id"], query, variables, name)
    operation.task = asyncio.create_task(run_published(operation, events))
    operation.task.add_done_callback(handler._task_done)
    handler.operations[message["id"]] = operation
    return True


async def run_published(operation: Operation[Context, Any], events: Published) -> None:
    """The operation task: each payload as a ``next``, then ``complete`` (as ``run_operation``)."""
    handler = operation.handler
    send = handler.websocket.send_text  # type: ignore[attr-defined]  # TextFramesAdapter's
    head = b'{"id":' + orjson.dumps(operation.id) + b',"type":"next","payload":'
    outcomes = events.outcomes
    try:
        try:
            async for outcome in outcomes:
                payload = events.payload(outcome)
                if payload is None:
                    payload = await events.executed(outcome)
                if operation.completed:
                    return
                await send((head + payload + b"}").decode())
        finally:
            await outcomes.aclose()  # the watch released, however it ends
        await operation.send_operation_message({"id": operation.id, "type": "complete"})
    except WebSocketDisconnected:
        return  # the connection's handler ends every operation
    except Exception as error:  # a bug: as Strawberry's run_operation does, logged, then complete
        await handler.handle_task_exception(error)
        with contextlib.suppress(Exception):
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        handler.operations.pop(operation.id, None)
        raise
