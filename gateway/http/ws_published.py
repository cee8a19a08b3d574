"""graphql-transport-ws operations run from a published subscription (``schema/published.py``):
the messages the standard path would send, the same bytes, with no task per subscription.

The operation is registered as Strawberry's own (an :class:`Operation`), so everything around it is
unchanged: a client's ``complete`` or a dropped socket cancels it, its slot is held until it ends
(``ws_slots.py``), a repeated ``id`` closes 4409. What stands for its task is a future that ends
when the operation does. A short task makes the first lookup and puts the first events; after it,
the operation is a :class:`~gateway.loading.poller.PushWatch`: the poller's delivery hands it each
answer that is news, and its ``next`` frame (the shared payload spliced into ``{"id":…,"type":
"next","payload":…}``) goes to the connection's :class:`~gateway.http.ws_outbox.Outbox`. A video
is released once final, and the ``complete`` follows the last one's event, as in
``summary_updates``.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import orjson
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

from gateway.http.ws_outbox import Outbox
from gateway.loading.cache import Outcome
from gateway.loading.poller import PushWatch, is_final
from gateway.schema.context import Context
from gateway.schema.prepared import PreparedOperations
from gateway.schema.published import Published, published_events

_COMPLETE = "\x00complete"  # the outbox key of an operation's last message
_EMPTY = contextvars.Context()  # where the end runs: no copy of the caller's context per operation


def start_published(
    handler: BaseGraphQLTransportWSHandler[Context, None], message: SubscribeMessage, outbox: Outbox
) -> bool:
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
    # the query and variables stay with the published operation (it needs neither again)
    operation: Operation[Context, None] = Operation(handler, message["id"], "", None, name)
    run = PublishedOperation(operation, events, outbox)
    operation.task = run.done  # type: ignore[assignment]  # cancel() and done callbacks, as a task's
    handler.operations[message["id"]] = operation
    return True


class PublishedOperation:
    __slots__ = ("_events", "_head", "_operation", "_outbox", "_starting", "_watch", "done")

    def __init__(self, operation: Operation[Context, Any], events: Published, outbox: Outbox) -> None:
        self._operation, self._events, self._outbox = operation, events, outbox
        self._head = b'{"id":' + orjson.dumps(operation.id) + b',"type":"next","payload":'
        loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = loop.create_future()  # never an exception: no _task_done
        self.done.add_done_callback(self._ended, context=_EMPTY)
        self._watch: PushWatch = events.poller.push_watch(events.view, self._news)
        self._starting: asyncio.Task[None] | None = loop.create_task(self._start())

    async def _start(self) -> None:
        """The first lookup and the first events, then the videos still to finish are watched."""
        try:
            first = await self._events.first()
            unfinished = []
            for video_id, outcome in zip(self._events.ids, first, strict=True):
                self._watch.seen(video_id, outcome)
                self._put(("first", video_id), outcome)
                if not is_final(outcome):
                    unfinished.append(video_id)
            if self.done.done():
                return
            if unfinished:
                self._watch.add(unfinished)  # news from here on comes through _news
            if not self._watch.ids:
                self._complete()
        except Exception as error:  # a bug: as Strawberry's run_operation does, logged, then complete
            await self._operation.handler.handle_task_exception(error)
            self._complete()
        finally:
            self._starting = None

    def _news(self, video_id: str, outcome: Outcome) -> None:
        self._put(video_id, outcome)
        if is_final(outcome):
            self._watch.release([video_id])
            if not self._watch.ids:
                self._complete()

    def _put(self, key: object, outcome: Outcome) -> None:
        payload = self._events.payload(outcome)
        if payload is not None:
            self._outbox.put((self, key), (self._head + payload + b"}").decode())
        else:
            self._outbox.put((self, key), lambda: self._executed(outcome))

    async def _executed(self, outcome: Outcome) -> str | None:
        if self.done.done():
            return None
        payload = await self._events.executed(outcome)
        return (self._head + payload + b"}").decode()

    def _complete(self) -> None:
        self._outbox.put((self, _COMPLETE), self._send_complete)

    async def _send_complete(self) -> None:
        if not self.done.done():
            await self._operation.send_operation_message({"id": self._operation.id, "type": "complete"})
            self.done.set_result(None)
        return None

    def _ended(self, _: object) -> None:
        """However it ends (complete, the client's complete, the socket gone): the IDs released,
        what still waits to go out for it dropped."""
        self._watch.close()
        if self._starting is not None:
            self._starting.cancel()
        self._outbox.drop(lambda key: not (isinstance(key, tuple) and key[0] is self))
