"""The byte-level guards of the HTTP edge, below the ASGI app: uvicorn with httptools has none of
them, and a gateway exposed without nginx or Envoy in front needs them all.

:class:`EdgeProtocol` is uvicorn's httptools protocol with

- a cap on the header block (431) and on the URL (414), counted as the bytes arrive, so a header
  pushed forever is refused after ``max_header_bytes`` and never held (httptools buffers a header
  until its end); a WebSocket upgrade is also held to the handshake limits of ``websockets``
  (lines of 8 KiB, 128 headers), past which it would never answer;
- a header-read deadline from the connection's first byte (or its opening) to the end of the
  headers (408, or a silent close for a connection that sent nothing): slowloris is cut off;
- a body-read deadline from the end of the headers to the end of the body (408): a body dribbled
  at one byte a second is cut off.

A refusal is GraphQL-shaped JSON with ``Connection: close``; the connection is then half-closed and
what the client still sends is discarded until it closes (or 2 s pass), so it reads the answer
instead of a reset. Refusals are logged (``refused``, with the status and the reason), at most one
line per status every :data:`LOG_EVERY` seconds, carrying the count since the last one: a flood of
bad requests can't flood the log. The connection cap is ``connections.py``'s.
"""

from __future__ import annotations

import asyncio
import http
import logging
import time
from dataclasses import dataclass
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.schema.errors import ErrorCode, envelope

log = logging.getLogger("gateway.edge")

WS_MAX_LINE, WS_MAX_HEADERS = 8192, 128  # websockets' own handshake limits (it would not answer past them)
LINGER = 2.0  # seconds a refused connection is read (and discarded) before it is closed
LOG_EVERY = 10.0  # seconds between two log lines about refusals of one status


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    max_header_bytes: int = 16 * 1024
    max_url_bytes: int = 8 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0


class Refusal(Exception):
    """An answer the edge gives itself, before (or instead of) the app."""

    def __init__(self, status: int, message: str, code: ErrorCode = ErrorCode.BAD_REQUEST) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def response_bytes(refusal: Refusal, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    """The whole HTTP/1.1 response of a refusal, closing the connection."""
    body = orjson.dumps(envelope(refusal.message, refusal.code))
    phrase = http.HTTPStatus(refusal.status).phrase
    lines = [f"HTTP/1.1 {refusal.status} {phrase}", "content-type: application/json"]
    lines += [f"content-length: {len(body)}", "connection: close", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class RefusalLog:
    """The edge's refusals, logged per status: the first at once, then one line per ``every``
    seconds with how many there were since the line before."""

    def __init__(self, every: float = LOG_EVERY) -> None:
        self._every = every
        self._counts: dict[int, int] = {}
        self._next_line: dict[int, float] = {}

    def refused(self, refusal: Refusal) -> None:
        status = refusal.status
        self._counts[status] = self._counts.get(status, 0) + 1
        now = time.monotonic()
        if now < self._next_line.get(status, 0.0):
            return
        fields = {"status": status, "reason": refusal.message, "refused": self._counts[status]}
        log.info("refused", extra={"fields": fields})
        self._counts[status], self._next_line[status] = 0, now + self._every


REFUSALS = RefusalLog()  # one per process: the protocols are one per connection


def _too_large(limits: EdgeLimits) -> Refusal:
    return Refusal(431, f"Request header fields too large: at most {limits.max_header_bytes} bytes")


class EdgeProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the edge's limits (``configured`` binds them)."""

    limits = EdgeLimits()
    on_made: Any = None  # the connection gate's hook: called once the connection is set up

    @classmethod
    def configured(cls, limits: EdgeLimits, on_made: Any = None) -> type[EdgeProtocol]:
        return type("EdgeProtocol", (cls,), {"limits": limits, "on_made": staticmethod(on_made)})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True
        self._received = False
        self._refused = False
        self._deadline: asyncio.TimerHandle | None = None

    # the connection
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        if self.on_made is not None:
            self.on_made(self)
        self._arm(self.limits.header_timeout, self._headers_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering: what the client still sends is dropped
        self._unset_keepalive_if_required()
        self._received = True
        if self._in_head:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, Refusal):
                self.refuse(exc.__context__)
            else:
                self._invalid()
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self._disarm()
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            self._invalid()
        else:
            if self._in_head and self._head_bytes > self.limits.max_header_bytes:
                self.refuse(_too_large(self.limits))

    def eof_received(self) -> None:
        if self._refused:
            self.transport.close()  # the client read the refusal and closed its side

    # parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0
        if self._deadline is None:  # the next request on a kept-alive connection
            self._arm(self.limits.header_timeout, self._headers_timed_out)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_url_bytes:
            raise Refusal(414, f"URI too long: at most {self.limits.max_url_bytes} bytes")

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.limits.max_header_bytes:
            raise _too_large(self.limits)
        upgrade = self.parser.should_upgrade()
        if upgrade and (
            len(self.headers) > WS_MAX_HEADERS
            or any(len(name) + len(value) + 4 > WS_MAX_LINE for name, value in self.headers)
        ):
            message = f"WebSocket handshake: at most {WS_MAX_HEADERS} headers of {WS_MAX_LINE} bytes each"
            raise Refusal(431, message)
        super().on_headers_complete()
        if not upgrade:
            self._arm(self.limits.body_timeout, self._body_timed_out)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    # answers
    def refuse(self, refusal: Refusal, headers: tuple[tuple[str, str], ...] = ()) -> None:
        """Answer ``refusal`` (unless a response already began), then half-close and linger."""
        self._disarm()
        self._refused = True
        REFUSALS.refused(refusal)
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app's receive() sees the client gone
            self.cycle.message_event.set()
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(response_bytes(refusal, headers))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER, self.transport.close)

    def _invalid(self) -> None:
        self.refuse(Refusal(400, "Invalid HTTP request"))

    def _headers_timed_out(self) -> None:
        self._deadline = None
        if not self._received:
            self.transport.close()  # never said anything: nothing to answer
            return
        seconds = self.limits.header_timeout
        self.refuse(Refusal(408, f"Request timeout: the headers must arrive within {seconds:g} s"))

    def _body_timed_out(self) -> None:
        self._deadline = None
        seconds = self.limits.body_timeout
        self.refuse(Refusal(408, f"Request timeout: the body must arrive within {seconds:g} s"))

    def _arm(self, seconds: float, callback: Any) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
