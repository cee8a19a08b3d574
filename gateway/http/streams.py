"""Operations streamed over plain HTTP: Apollo's multipart subscriptions
(``multipart/mixed;subscriptionSpec=1.0``) and GraphQL over SSE (graphql-sse's distinct connections
mode). Strawberry frames them (``subscription_protocols``); this module gives them what the WebSocket
handlers give theirs:

- a slot of the per-key and per-process caps (``ws_slots.py``) for the stream's whole life; past a
  cap the request is refused with 429 and the protocol's ``RATE_LIMITED`` error, before it starts;
- an end at shutdown: each open stream sends one last event, an error saying the gateway is going
  away (``UPSTREAM_UNAVAILABLE``, as a lookup cut off by shutdown), then completes, so the response
  ends and the connection closes instead of being cut off at ``GATEWAY_SHUTDOWN_TIMEOUT``.

The API key is the route's (an ``Authorization`` header, like any HTTP request).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from graphql import GraphQLError
from strawberry.types import ExecutionResult

from gateway.http.rejections import CodedRefusal
from gateway.http.ws_slots import OperationSlots
from gateway.schema.errors import ErrorCode

GOING_AWAY = "The gateway is shutting down: subscribe again (another replica, or this one once it is back)"


class StreamRefused(CodedRefusal):
    """A stream past a cap: answered 429 with ``error`` (the slots' coded error) as the body."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(429, error)


def going_away() -> ExecutionResult:
    error = GraphQLError(GOING_AWAY, extensions={"code": ErrorCode.UPSTREAM_UNAVAILABLE.value})
    return ExecutionResult(data=None, errors=[error])


class HttpStreams:
    """The open HTTP streams of one app, and their end at shutdown (:meth:`close_all`)."""

    def __init__(self, slots: OperationSlots) -> None:
        self._slots = slots
        self._closing = asyncio.Event()
        self.open = 0

    def acquire(self, tenant: str) -> None:
        """Take ``tenant``'s slot for a new stream, or raise :class:`StreamRefused`."""
        refusal = self._slots.acquire(tenant)
        if refusal is not None:
            raise StreamRefused(refusal)
        self.open += 1

    def release(self, tenant: str) -> None:
        self._slots.release(tenant)
        self.open -= 1

    def held(self, tenant: str, results: AsyncIterator[Any]) -> AsyncGenerator[Any, None]:
        """``results`` as the stream sends them, holding ``tenant``'s slot (acquired) until they
        end, however they end; at shutdown, :func:`going_away` and the end."""

        async def stream() -> AsyncGenerator[Any, None]:
            closing = asyncio.ensure_future(self._closing.wait())
            following: asyncio.Future[Any] | None = None
            try:
                while True:
                    following = asyncio.ensure_future(anext(results))
                    await asyncio.wait((following, closing), return_when=asyncio.FIRST_COMPLETED)
                    if not following.done():
                        yield going_away()
                        return
                    try:
                        value = following.result()
                    except StopAsyncIteration:
                        return
                    yield value
            finally:
                closing.cancel()
                if following is not None and not following.done():
                    following.cancel()  # a dropped client or the shutdown: the generator ends first
                    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                        await asyncio.shield(following)
                aclose = getattr(results, "aclose", None)
                if aclose is not None:
                    await aclose()
                self.release(tenant)

        return stream()

    def close_all(self) -> None:
        """Shutdown: every open stream (and any opened later) ends with :func:`going_away`."""
        self._closing.set()
