"""API keys (``GATEWAY_API_KEYS``), declared per route: :class:`RequireApiKey` wraps each route
that needs a key, so a route added without it is visibly open (and a test walks every route).

Over HTTP a request without a valid ``Authorization: Bearer <key>`` gets 401. A WebSocket
handshake without one is let through marked unverified, since browsers can't set headers on it:
its ``connection_init`` payload must then carry the key (``http/websockets.py`` checks it).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.http.rejections import reject
from gateway.schema.errors import ErrorCode
from gateway.vod.credentials import Secret


@dataclass(frozen=True, slots=True)
class Caller:
    """What the edge knows of who is calling: ``scope["auth"]``, Starlette's place for it."""

    verified: bool  # the handshake or request carried a valid key (or keys are off)


OPEN = Caller(verified=True)


def caller_of(connection: HTTPConnection) -> Caller:
    auth = connection.scope.get("auth")
    return auth if isinstance(auth, Caller) else OPEN


def _digest(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


class ApiKeys:
    """``Bearer <key>`` values checked in constant time against every key."""

    def __init__(self, keys: tuple[Secret, ...]) -> None:
        # digests, all 32 bytes: compare_digest's time then depends on neither a key's length nor
        # its content (it returns early on a length mismatch)
        self._keys = [_digest(k.reveal().encode()) for k in keys]

    def __bool__(self) -> bool:
        return bool(self._keys)

    def allowed(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        candidate = token.strip().encode() if scheme.lower() == "bearer" else b""
        given = _digest(candidate)
        matched = False
        for key in self._keys:  # no early exit: the time taken doesn't depend on which key matched
            matched |= hmac.compare_digest(given, key)
        return matched and bool(candidate)


class RequireApiKey:
    """Route middleware: the wrapped route needs a key, except requests ``exempt`` says are not
    operations (the explorer page itself)."""

    def __init__(
        self,
        app: ASGIApp,
        keys: ApiKeys,
        on_reject: Callable[[], None],
        exempt: Callable[[Scope], bool] | None = None,
    ) -> None:
        self.app = app
        self._keys = keys
        self._on_reject = on_reject
        self._exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or (self._exempt is not None and self._exempt(scope)):
            await self.app(scope, receive, send)
            return
        verified = self._keys.allowed(Headers(scope=scope).get("authorization", ""))
        if not verified and scope["type"] == "http":
            self._on_reject()
            response = reject(
                "Missing or invalid API key: send 'Authorization: Bearer <key>'",
                ErrorCode.UNAUTHENTICATED,
                401,
                {"WWW-Authenticate": 'Bearer realm="vod-gateway"'},
            )
            await response(scope, receive, send)
            return
        scope["auth"] = Caller(verified=verified)
        await self.app(scope, receive, send)
