"""Injected failures, as seen behind real networks and gateways.

``5xx`` answers InternalError (500) or ServiceUnavailable (503); ``hang`` answers nothing for
``hang_seconds`` (or until the client goes away), then a proxy's 504 page; ``garbage`` answers 200
with an HTML page; ``reset`` starts a response, sends part of it and aborts the connection;
``throttle`` answers a spurious Throttling.User.
"""

from __future__ import annotations

import asyncio
import logging
import random

from starlette.types import Receive, Send

from gateway.clock import Clock
from gateway.emulator import errors
from gateway.emulator.config import FAULT_KINDS, FaultRates
from gateway.emulator.respond import send_error, send_text

KIND_NAMES = {field: name for name, field in FAULT_KINDS.items()}

GARBAGE_PAGE = (
    "<!DOCTYPE html><html><head><title>Access denied</title></head><body>"
    "<h1>Sorry, your request has been blocked.</h1><p>Web Application Firewall</p></body></html>"
)
TIMEOUT_PAGE = (
    "<html><head><title>504 Gateway Time-out</title></head><body>"
    "<center><h1>504 Gateway Time-out</h1></center><hr><center>Tengine</center></body></html>"
)


class EmulatedReset(Exception):
    """Raised mid-response so the server aborts the connection (the ``reset`` fault)."""


class QuietResets(logging.Filter):
    """Drops the server's 'Exception in ASGI application' records caused by ``reset`` faults."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, EmulatedReset)


class FaultInjector:
    def __init__(self, rates: FaultRates, rng: random.Random, clock: Clock, hang_seconds: float) -> None:
        self._rng = rng
        self._clock = clock
        self._hang_seconds = hang_seconds
        self.set_rates(rates)

    @property
    def rates(self) -> FaultRates:
        return self._current

    def set_rates(self, rates: FaultRates) -> None:
        """Switch faults on or off while running (``POST /_emulator/faults``); calls that already
        picked a fault keep it."""
        self._current = rates
        self._rates = rates.items()
        self._enabled = rates.total > 0

    def pick(self) -> str | None:
        """The fault for this call, by its CLI name (``5xx``, ``hang``, ...), or None."""
        if not self._enabled:
            return None
        roll = self._rng.random()
        threshold = 0.0
        for field, probability in self._rates:
            threshold += probability
            if roll < threshold:
                return KIND_NAMES[field]
        return None

    def status_for(self, kind: str) -> int:
        """The HTTP status the fault will answer (0 when none arrives complete)."""
        if kind == "5xx":
            return 500 if self._rng.random() < 0.5 else 503
        return {"hang": 504, "garbage": 200, "reset": 0, "throttle": 400}[kind]

    async def perform(
        self, kind: str, status: int, receive: Receive, send: Send, request_id: str, host_id: str
    ) -> None:
        if kind == "5xx":
            error = errors.internal_error() if status == 500 else errors.service_unavailable()
            await send_error(send, error, request_id, host_id)
        elif kind == "throttle":
            await send_error(send, errors.throttled(), request_id, host_id)
        elif kind == "garbage":
            await send_text(send, 200, GARBAGE_PAGE, "text/html; charset=utf-8")
        elif kind == "hang":
            if await self._hang(receive):
                await send_text(send, 504, TIMEOUT_PAGE, "text/html")
        elif kind == "reset":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json;charset=utf-8"),
                        (b"content-length", b"4096"),
                    ],
                }
            )
            partial = f'{{"RequestId":"{request_id}","TranscodeSummaryList":[{{"Vid'
            await send({"type": "http.response.body", "body": partial.encode(), "more_body": True})
            raise EmulatedReset(request_id)

    async def _hang(self, receive: Receive) -> bool:
        """Wait ``hang_seconds``; False when the client went away first."""

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        waiter = asyncio.ensure_future(disconnected())
        timer = asyncio.ensure_future(self._clock.sleep(self._hang_seconds))
        try:
            done, _ = await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            timer.cancel()
        return timer in done and waiter not in done
