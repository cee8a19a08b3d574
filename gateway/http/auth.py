"""API keys (``GATEWAY_API_KEYS``), declared per route: :class:`RequireApiKey` wraps each route
that needs a key, so a route added without it is visibly open (and a test walks every route).

Over HTTP a request without a valid ``Authorization: Bearer <key>`` gets 401. A WebSocket
handshake without one is let through marked unverified, since browsers can't set headers on it:
its ``connection_init`` payload must then carry the key (``http/websockets.py`` checks it).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config.keys import ApiKey
from gateway.http.rejections import reject
from gateway.loading.fair import OPEN_TENANT
from gateway.schema.errors import ErrorCode
from gateway.vod.credentials import Secret


@dataclass(frozen=True, slots=True)
class Caller:
    """What the edge knows of who is calling: ``scope["auth"]``, Starlette's place for it."""

    verified: bool  # the handshake or request carried a valid key (or keys are off)
    tenant: str = OPEN_TENANT  # the key's tenant: its name, or a label of its digest; never the key


OPEN = Caller(verified=True)


def caller_of(connection: HTTPConnection) -> Caller:
    auth = connection.scope.get("auth")
    return auth if isinstance(auth, Caller) else OPEN


def _digest(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


def _tenant(key: Secret) -> str:
    return key.tenant if isinstance(key, ApiKey) else ApiKey(key.reveal()).tenant


class ApiKeys:
    """``Bearer <key>`` values checked in constant time against every key."""

    def __init__(self, keys: Sequence[Secret]) -> None:
        # digests, all 32 bytes: compare_digest's time then depends on neither a key's length nor
        # its content (it returns early on a length mismatch)
        self._keys = [(_digest(k.reveal().encode()), _tenant(k)) for k in keys]

    def __bool__(self) -> bool:
        return bool(self._keys)

    def allowed(self, header: str) -> bool:
        return self.tenant_of(header) is not None

    def tenant_of(self, header: str) -> str | None:
        """The tenant of the key in ``header`` (``Bearer <key>``), or None if it holds none of ours."""
        scheme, _, token = header.partition(" ")
        candidate = token.strip().encode() if scheme.lower() == "bearer" else b""
        given = _digest(candidate)
        tenant: str | None = None
        for key, name in self._keys:  # no early exit: the time taken doesn't depend on which matched
            if hmac.compare_digest(given, key):
                tenant = name
        return tenant if candidate else None


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
        tenant = self._keys.tenant_of(Headers(scope=scope).get("authorization", ""))
        verified = tenant is not None
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
        scope["auth"] = Caller(verified=verified, tenant=tenant or OPEN_TENANT)
        await self.app(scope, receive, send)
