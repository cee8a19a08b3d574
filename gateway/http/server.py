"""The uvicorn server the gateway runs in: its edge protocol and connection gate, WebSocket
limits, JSON logs, and a shutdown that ends.

- SIGTERM and SIGINT start a graceful shutdown and the process exits 0 (uvicorn's own signal
  handling re-raises the signal once it is done, so a clean SIGTERM ended with status 143).
- From the signal on, ``/readyz`` answers 503 (:class:`~gateway.http.draining.Draining`); for
  ``GATEWAY_SHUTDOWN_DRAIN`` seconds the gateway still accepts and serves, so that a load balancer
  sees the 503 and stops sending before the listener closes. A second signal ends the drain.
- Shutdown stops accepting, ends the subscriptions streamed over HTTP (``streams.py``), closes idle
  connections and WebSockets (1012), lets requests in flight
  finish for up to ``GATEWAY_SHUTDOWN_TIMEOUT`` seconds, then cuts off the stragglers (a body
  dribbled at one byte a second) with one log line, instead of uvicorn's cancelling the tasks
  (which logs a traceback for each).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Generator
from types import FrameType

import uvicorn

from gateway.config.connections import descriptor_cap
from gateway.config.settings import Settings
from gateway.http.connections import ConnectionGate, GatedSocket
from gateway.http.draining import Draining
from gateway.http.protocol import EdgeLimits, EdgeProtocol
from gateway.http.streams import HttpStreams
from gateway.http.ws_writes import CoalescingWebSocketProtocol

log = logging.getLogger("gateway.edge")

CUT_OFF_GRACE = 1.0  # seconds the requests of cut-off connections get to see the disconnect


class GatewayServer(uvicorn.Server):
    on_shutdown: Callable[[], None] | None = None  # first thing at shutdown: the app's HTTP streams end
    cancelling = 0  # servers of this process cancelling their last request tasks

    def __init__(self, config: uvicorn.Config, draining: Draining, drain_seconds: float = 0.0) -> None:
        super().__init__(config)
        self.draining = draining
        self._drain_seconds = drain_seconds
        self._drain_end: asyncio.TimerHandle | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """The first signal starts the drain (readiness 503 at once) and, after it, the shutdown;
        a signal during the drain starts the shutdown at once."""
        if self.draining.active or self._drain_seconds <= 0:
            self.draining.begin()
            if self._drain_end is not None:
                self._drain_end.cancel()
                self._drain_end = None
            super().handle_exit(sig, frame)
            return
        self.draining.begin()
        log.info("shutdown: draining", extra={"fields": {"seconds": self._drain_seconds}})
        loop = asyncio.get_running_loop()
        self._drain_end = loop.call_later(self._drain_seconds, self._end_drain, sig)

    def _end_drain(self, sig: int) -> None:
        self._drain_end = None
        super().handle_exit(sig, None)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for sig in signals:
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)

    async def shutdown(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        for server in self.servers:
            server.close()
        if self.on_shutdown is not None:
            self.on_shutdown()
        state = self.server_state
        for connection in list(state.connections):
            connection.shutdown()  # idle: closed; busy: closed when its response is done; WS: 1012
        loop = asyncio.get_running_loop()
        grace = float(self.config.timeout_graceful_shutdown or 0)
        deadline = loop.time() + grace
        while (state.connections or state.tasks) and not self.force_exit and loop.time() < deadline:
            await asyncio.sleep(0.05)
        stragglers = list(state.connections)
        if stragglers or state.tasks:
            fields = {"connections": len(stragglers), "requests": len(state.tasks), "seconds": grace}
            log.warning("shutdown: cutting off connections still open", extra={"fields": fields})
            for connection in stragglers:
                connection.transport.abort()
            deadline = loop.time() + CUT_OFF_GRACE
            while state.tasks and loop.time() < deadline:
                await asyncio.sleep(0.02)
        cancelled = list(state.tasks)  # their CancelledError is the line above, not a traceback each
        if cancelled:
            GatewayServer.cancelling += 1
            try:
                for task in cancelled:
                    task.cancel()
                await asyncio.wait(cancelled, timeout=CUT_OFF_GRACE)
            finally:
                GatewayServer.cancelling -= 1
        if not self.force_exit:
            await self.lifespan.shutdown()


def _not_cancelled_at_shutdown(record: logging.LogRecord) -> bool:
    """Drops uvicorn's "Exception in ASGI application" traceback for a request task that a
    shutdown cancelled (``GatewayServer.shutdown`` logged one line for all of them)."""
    exc = record.exc_info[1] if record.exc_info else None
    return not (isinstance(exc, asyncio.CancelledError) and GatewayServer.cancelling > 0)


logging.getLogger("uvicorn.error").addFilter(_not_cancelled_at_shutdown)


def capped_connections(settings: Settings) -> int:
    """``GATEWAY_MAX_CONNECTIONS``, never above what the descriptors allow (one line if lowered)."""
    allowed = descriptor_cap()
    if settings.max_connections > allowed:
        fields = {"asked": settings.max_connections, "allowed": allowed}
        log.warning("GATEWAY_MAX_CONNECTIONS lowered to what RLIMIT_NOFILE allows", extra={"fields": fields})
        return allowed
    return settings.max_connections


def build_server(
    app: object,
    settings: Settings,
    host: str,
    port: int,
    draining: Draining | None = None,
    listen_fd: int | None = None,
) -> tuple[GatewayServer, GatedSocket]:
    """The server and its listening socket (pass it to ``serve(sockets=[...])``): bound here, or
    the inherited ``listen_fd`` (a worker of ``serve --workers``). ``draining``: the app's
    (``create_app(draining=...)``), so that ``/readyz`` turns 503 at the signal."""
    gate = ConnectionGate(capped_connections(settings))
    limits = EdgeLimits(
        max_header_bytes=settings.max_header_bytes,
        max_url_bytes=settings.max_url_bytes,
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
    )
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        loop="asyncio",  # uvloop starved a few connections at 64 clients (p99 in seconds)
        http=EdgeProtocol.configured(limits, gate.made),
        ws=CoalescingWebSocketProtocol,  # websockets-sansio, one write per connection and loop turn
        ws_max_size=settings.max_body_bytes,  # the decompressed size: permessage-deflate is off
        ws_per_message_deflate=False,
        lifespan="on",
        log_config=None,  # the gateway's JSON handler (logs.py) formats uvicorn's lines too
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=settings.shutdown_timeout,  # type: ignore[arg-type]
    )
    server = GatewayServer(config, draining or Draining(), settings.shutdown_drain)
    streams = getattr(getattr(app, "state", None), "http_streams", None)
    if isinstance(streams, HttpStreams):
        server.on_shutdown = streams.close_all
    if listen_fd is not None:
        return server, GatedSocket.inherited(listen_fd, gate)
    return server, GatedSocket.listening(host, port, gate)
