"""One connection's outgoing messages of published subscriptions, sent by one task.

The poller hands an answer to every subscriber of a video in one synchronous pass
(``Poller.deliver``); a published subscription (``ws_published.py``) turns it into its ``next``
frame there and puts it here, keyed by operation and video. One task per connection sends what
waits, in the order it was put, whenever there is something: no task per subscription wakes up.
While the connection is slow (its socket's buffer full), a newer frame for the same key replaces the
one still waiting, so what waits stays bounded by the connection's operations and their videos, and
a subscriber gets the latest state, not every one in between (as a subscription's own mailbox did).

An item is the frame's text, or a callable giving an awaitable of it (an event that needs
graphql-core's execution, or the ``complete`` that needs Strawberry's bookkeeping): those are
awaited in their turn, so a subscription's messages keep their order.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Hashable

from strawberry.http.exceptions import WebSocketDisconnected

log = logging.getLogger("gateway.subscriptions")

Item = str | Callable[[], Awaitable[str | None]]
"""A frame's text, or what makes it (None: nothing to send, its own work done)."""


class Outbox:
    def __init__(self, send: Callable[[str], Awaitable[None]]) -> None:
        self._send = send
        self._waiting: dict[Hashable, Item] = {}
        self._wake: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.sent = 0

    def put(self, key: Hashable, item: Item) -> None:
        """``item`` goes out after what waits (replacing, in its place, one still waiting for ``key``)."""
        self._waiting[key] = item
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), context=contextvars.Context())
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def drop(self, keep: Callable[[Hashable], bool]) -> None:
        """Forget what waits under the keys ``keep`` refuses (an operation that ended)."""
        self._waiting = {k: v for k, v in self._waiting.items() if keep(k)}

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                while not self._waiting:
                    self._wake = loop.create_future()
                    try:
                        await self._wake
                    finally:
                        self._wake = None
                taken, self._waiting = self._waiting, {}
                for item in taken.values():
                    text = item if item.__class__ is str else await item()  # type: ignore[operator]
                    if text is not None:
                        await self._send(text)
                        self.sent += 1
        except WebSocketDisconnected:
            return  # the connection's handler ends every operation
        except Exception as exc:  # a bug: the connection's published operations hear no more
            log.error("published subscriptions' sender failed: %s: %s", type(exc).__name__, exc)

    def close(self) -> None:
        self._waiting = {}
        if self._task is not None:
            self._task.cancel()
            self._task = None
