"""Operations streamed over plain HTTP: Apollo's multipart subscriptions
(``multipart/mixed;subscriptionSpec=1.0``) and GraphQL over SSE (graphql-sse's distinct connections
mode). Strawberry frames them (``subscription_protocols``); this module gives them what the WebSocket
handlers give theirs:

- a slot of the per-key and per-process caps (``ws_slots.py``) for the stream's whole life; past a
  cap the request is refused with 429 and the protocol's ``RATE_LIMITED`` error, before it starts;
- an end at shutdown that clients take for a dropped connection, not a completion, so they
  subscribe again (as the WebSocket's close 1012): multipart sends the protocol's transport-level
  error, ``{"payload": null, "errors": [...]}`` (Apollo Client raises it as an error, which its
  RetryLink retries), and its closing boundary; SSE sends the error as a ``next`` event and ends the
  response without ``complete`` (graphql-sse retries a stream that ends so). The error says the
  gateway is going away (``UPSTREAM_UNAVAILABLE``, as a lookup cut off by shutdown); the response
  ends instead of being cut off at ``GATEWAY_SHUTDOWN_TIMEOUT``.

The API key is the route's (an ``Authorization`` header, like any HTTP request).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError, get_operation_ast, parse
from strawberry.http.streaming import (
    AsyncTextStream,
    HTTPStreamTransport,
    JSONEncoder,
    MultipartSubscriptionTransport,
    SSETransport,
    merge_stream_with_heartbeat,
)
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL
from strawberry.types import ExecutionResult

from gateway.http.graphql_response import JSON_TYPES, is_incremental, named_types
from gateway.http.rejections import CodedRefusal
from gateway.http.ws_slots import OperationSlots
from gateway.schema.errors import ErrorCode

GOING_AWAY = "The gateway is shutting down: subscribe again (another replica, or this one once it is back)"


class StreamRefused(CodedRefusal):
    """A stream past a cap: answered 429 with ``error`` (the slots' coded error) as the body."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(429, error)


class GoingAway(ExecutionResult):
    """The last result of a stream cut short by shutdown: :func:`framed` ends the stream with it."""


def going_away() -> GoingAway:
    error = GraphQLError(GOING_AWAY, extensions={"code": ErrorCode.UPSTREAM_UNAVAILABLE.value})
    return GoingAway(data=None, errors=[error])


Process = Callable[[Any, list[Any]], Awaitable[tuple[Any, list[Any]]]]


def framed(
    result: AsyncIterator[Any], transport: HTTPStreamTransport, process: Process, encode: JSONEncoder
) -> AsyncTextStream:
    """Strawberry's framing of a stream's results (``_stream_result``: ``process`` makes each one's
    JSON), heartbeats included, except for its end at shutdown: :func:`last_words`, no completion."""

    async def stream() -> AsyncGenerator[str, None]:
        pending: list[Any] = []
        async for value in result:
            if isinstance(value, GoingAway):
                yield last_words(transport, value, encode)
                return
            response, pending = await process(value, pending)
            yield transport.encode_next(response, encode)
        yield transport.encode_complete()

    return merge_stream_with_heartbeat(
        stream,
        lambda: transport.heartbeat_message(encode),
        interval=transport.heartbeat_interval,
        send_initial_heartbeat=transport.send_initial_heartbeat,
    )


def last_words(transport: HTTPStreamTransport, value: GoingAway, encode: JSONEncoder) -> str:
    """A stream's end at shutdown, which its protocol's clients retry: multipart's transport error
    (then its closing boundary); over SSE a ``next`` event with the error, and no ``complete``."""
    errors: list[object] = [e.formatted for e in value.errors or ()]
    if isinstance(transport, MultipartSubscriptionTransport):
        part = transport.encode_multipart_data({"payload": None, "errors": errors}, encode)
        return part + transport.encode_complete()
    return transport.encode_next({"data": None, "errors": errors}, encode)


class Hold:
    """One stream's operation slot, released once: by the stream's end, or by the response's end if
    the stream never started (a client gone before its first event), whichever comes first."""

    def __init__(self, streams: HttpStreams, tenant: str) -> None:
        self._streams, self.tenant, self.released = streams, tenant, False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._streams.released(self.tenant)


class HttpStreams:
    """The open HTTP streams of one app, and their end at shutdown (:meth:`close_all`)."""

    def __init__(self, slots: OperationSlots) -> None:
        self._slots = slots
        self._closing = asyncio.Event()
        self._holds: weakref.WeakKeyDictionary[object, Hold] = weakref.WeakKeyDictionary()
        self.open = 0

    def acquire(self, tenant: str, owner: object | None) -> Hold:
        """Take ``tenant``'s slot for a new stream, or raise :class:`StreamRefused`. ``owner`` (the
        request) gives it back at the latest when its response ends: :meth:`end`."""
        refusal = self._slots.acquire(tenant)
        if refusal is not None:
            raise StreamRefused(refusal)
        self.open += 1
        hold = Hold(self, tenant)
        if owner is not None:
            self._holds[owner] = hold
        return hold

    def released(self, tenant: str) -> None:
        self._slots.release(tenant)
        self.open -= 1

    def end(self, owner: object) -> None:
        """``owner``'s response has ended, however: its stream's slot is free (if it still held one)."""
        hold = self._holds.pop(owner, None)
        if hold is not None:
            hold.release()

    def held(self, hold: Hold, results: AsyncIterator[Any]) -> AsyncGenerator[Any, None]:
        """``results`` as the stream sends them, holding ``hold``'s slot until they end, however
        they end; at shutdown, :func:`going_away` and the end."""

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
                try:
                    closing.cancel()
                    if following is not None and not following.done():
                        following.cancel()  # a dropped client or the shutdown: the generator ends first
                        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                            await asyncio.shield(following)
                    aclose = getattr(results, "aclose", None)
                    if aclose is not None:
                        await aclose()
                finally:
                    hold.release()  # first of all, whatever the closing above raised

        return stream()

    def close_all(self) -> None:
        """Shutdown: every open stream (and any opened later) ends with :func:`going_away`."""
        self._closing.set()


def one_result_for(query: str | None, operation_name: str | None, accept: str | None) -> bool:
    """A streaming request (SSE, or a multipart subscription's Accept) better answered as one JSON
    result: the client accepts JSON too (urql lists text/event-stream beside it for every operation,
    Apollo's subscription Accept ends with application/json), and the operation is not a
    subscription, nor incremental (``@defer``/``@stream``) unless multipart/mixed is accepted too
    (plain HTTP's incremental answer; else its payloads go out as SSE events). A query then keeps
    everything plain HTTP has (the response cache, GET caching) and takes no slot."""
    types = named_types(accept)
    if not types & JSON_TYPES:
        return False
    if _operation_type(query or "", operation_name) in ("subscription", None):
        return False
    return "multipart/mixed" in types or not is_incremental(query or "")


MULTIPART_QUERY = (
    "multipart/mixed;subscriptionSpec=1.0 (Apollo's multipart subscriptions) carries subscriptions "
    "only, and this operation is a {kind}: send it with Accept: application/json (or "
    "application/graphql-response+json) for one answer, or text/event-stream for a stream"
)


def subscriptions_only(protocol: str, query: str | None, operation_name: str | None) -> None:
    """Refuse (406, before a slot is taken) a query or mutation sent for a multipart subscription
    stream by a client that accepts no JSON answer (one that does gets it: :func:`one_result_for`)."""
    kind = _operation_type(query or "", operation_name)
    if protocol == MultipartSubscriptionTransport.protocol and kind not in ("subscription", None):
        raise HTTPException(406, MULTIPART_QUERY.format(kind=kind))


@functools.lru_cache(maxsize=1024)
def _operation_type(query: str, operation_name: str | None) -> str | None:
    try:
        operation = get_operation_ast(parse(query, no_location=True), operation_name)
    except GraphQLError:
        return None  # the executor says what is wrong with it, on whichever transport
    return None if operation is None else operation.operation.value


class LineFeedSSE(SSETransport):
    """Strawberry's SSE framing with LF line ends: the spec allows CRLF, but urql's parser splits
    events on a blank line of LF only ("\\n\\n"), and so never saw an event (graphql-sse and
    browsers read both)."""

    def encode_event(self, event: str, data: str | None = None) -> str:
        return super().encode_event(event, data).replace("\r\n", "\n")

    def encode_comment(self, comment: str) -> str:
        return f": {comment}\n\n"


TRANSPORTS: Mapping[str, type[HTTPStreamTransport]] = {
    MULTIPART_SUBSCRIPTION_PROTOCOL: MultipartSubscriptionTransport,
    GRAPHQL_SSE_PROTOCOL: LineFeedSSE,
}
"""The view's HTTP stream transports, by ``subscription_protocols`` name."""


class ItemPaths:
    """Streamed items in both incremental formats: graphql-core's (graphql-js 17 alpha 9: an entry's
    ``id`` names its pending list; Apollo Client's ``GraphQL17Alpha9Handler`` reads that) and the
    2022 one urql reads, where an entry's ``path`` ends with the index of its first item. Strawberry
    gives each entry its pending ``path``; this appends the index, counted per stream."""

    def __init__(self) -> None:
        self._next: weakref.WeakKeyDictionary[object, dict[str, int]] = weakref.WeakKeyDictionary()

    def apply(self, request: object, response: Mapping[str, Any]) -> None:
        counts = self._next.setdefault(request, {})
        data = response.get("data")
        for pending in response.get("pending") or ():  # a stream's first index: the items already sent
            counts.setdefault(str(pending["id"]), _length_at(data, pending["path"]))
        for entry in response.get("incremental") or ():
            if "items" in entry and isinstance(entry.get("path"), list):
                start = counts.get(str(entry["id"]), 0)
                entry["path"] = [*entry["path"], start]
                counts[str(entry["id"])] = start + len(entry["items"])


def _length_at(data: object, path: list[Any]) -> int:
    for key in path:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return 0
    return len(data) if isinstance(data, list) else 0


async def finished(response: object) -> None:
    """``response`` has been sent, or given up: a stream's body (its generators, and so its slot
    and its subscription) is closed now rather than whenever it is collected."""
    aclose = getattr(getattr(response, "body_iterator", None), "aclose", None)
    if aclose is not None:
        await aclose()
