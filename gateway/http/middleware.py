"""Plain ASGI middleware (no BaseHTTPMiddleware, so contextvars flow): request IDs, API keys,
and the request body limit. Rejections are GraphQL-shaped JSON with an ``extensions.code``."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import uuid
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.explorer import wants_html
from gateway.logs import request_id_var
from gateway.vod.credentials import Secret

_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

log = logging.getLogger("gateway.graphql")


def _reject(message: str, code: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    # the same line the view writes for every operation it runs: a refused one is an operation too
    log.info("graphql operation", extra={"fields": {"outcome": "rejected", "errors": [code]}})
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


class RequestIdMiddleware:
    """Takes a safe ``X-Request-ID`` from the client or makes one, and echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if _SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex[:16]
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def _protected(scope: Scope, explorer: bool) -> bool:
    """/graphql needs a key, except the explorer page itself (exactly what the router serves it for)."""
    if scope.get("path") != "/graphql":
        return False
    if explorer and scope["type"] == "http" and scope.get("method") == "GET":
        return not wants_html(Request(scope))
    return True


def _digest(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


class ApiKeys:
    """``Bearer <key>`` values checked in constant time against every key (the middleware's and
    the WebSocket handshake's check)."""

    def __init__(self, keys: tuple[Secret, ...]) -> None:
        # digests, all 32 bytes: compare_digest's time then depends on neither a key's length nor
        # its content (it returns early on a length mismatch)
        self._keys = [_digest(k.reveal().encode()) for k in keys]

    def allowed(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        candidate = token.strip().encode() if scheme.lower() == "bearer" else b""
        given = _digest(candidate)
        matched = False
        for key in self._keys:  # no early exit: the time taken doesn't depend on which key matched
            matched |= hmac.compare_digest(given, key)
        return matched and bool(candidate)


class ApiKeyMiddleware:
    """``Authorization: Bearer <key>`` on /graphql."""

    def __init__(
        self, app: ASGIApp, keys: tuple[Secret, ...], on_reject: Callable[[], None], explorer: bool = False
    ) -> None:
        self.app = app
        self.allowed = ApiKeys(keys).allowed
        self._on_reject = on_reject
        self._explorer = explorer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and _protected(scope, self._explorer):
            header = Headers(scope=scope).get("authorization", "")
            if not self.allowed(header):
                # WebSocket clients that can't set headers authenticate in connection_init instead
                if scope["type"] == "websocket":
                    scope.setdefault("state", {})["needs_api_key"] = True
                else:
                    self._on_reject()
                    response = _reject(
                        "Missing or invalid API key: send 'Authorization: Bearer <key>'",
                        "UNAUTHENTICATED",
                        401,
                        {"WWW-Authenticate": 'Bearer realm="vod-gateway"'},
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuses bodies above ``max_bytes`` (by Content-Length, or counted while streaming) with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int, on_reject: Callable[[], None]) -> None:
        self.app = app
        self._max = max_bytes
        self._on_reject = on_reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self._max):
            self._on_reject()
            await self._too_big()(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            self._on_reject()
            if not started:
                await self._too_big()(scope, receive, send)

    def _too_big(self) -> JSONResponse:
        message = f"Request body too large: at most {self._max} bytes are accepted"
        return _reject(message, "PAYLOAD_TOO_LARGE", 413)


class _BodyTooLarge(Exception):
    pass
