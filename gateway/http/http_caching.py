"""HTTP caching of GET queries (a persisted query's hash makes a short, cacheable URL): a
``Cache-Control`` max-age from the shortest TTL of the summaries behind the answer, an ``ETag`` of
its bytes, and 304 for a matching ``If-None-Match``; so a CDN or the browser can answer status
polls. ``private`` when API keys are on (an answer is the key holder's); an answer with errors other
than ``VIDEO_NOT_FOUND`` is ``no-store``, and so is every other GET answer of ``/graphql`` that says
nothing itself (:class:`NoStoreGets`: a refusal, ``PersistedQueryNotFound``, a 401, a 400), so no
CDN keeps one for the URL."""

from __future__ import annotations

import hashlib
import math

from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

VARY = "Accept"  # the content type follows it (graphql_response.py)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def cache_control(cacheable: bool, ttl: float, *, private: bool) -> str:
    """``ttl``: seconds the answer stays valid (inf when no summary is behind it: a terminal TTL's
    worth is the most the caller should pass)."""
    if not cacheable:
        return "no-store"
    seconds = 0 if math.isinf(ttl) else max(0, math.floor(ttl))
    scope = "private" if private else "public"
    return f"{scope}, max-age={seconds}" if seconds > 0 else f"{scope}, no-cache"


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def with_cache_headers(response: Response, control: str, if_none_match: str | None) -> Response:
    """``response`` (a whole 200) with its validators; a 304 without a body if the client's copy is it."""
    headers = {"Cache-Control": control, "Vary": VARY}
    if control == "no-store":
        response.headers.update(headers)
        return response
    etag = etag_of(bytes(response.body))
    if matches(if_none_match, etag):
        return Response(status_code=304, headers={**headers, "ETag": etag})
    response.headers.update({**headers, "ETag": etag})
    return response


def cached_get(
    response: Response, codes: tuple[str, ...], ttl: float, *, private: bool, if_none_match: str | None
) -> Response:
    """A GET query's whole 200 with its caching headers: cacheable when its only errors (if any)
    are ``VIDEO_NOT_FOUND`` (the response cache's rule), for ``ttl`` seconds."""
    if response.status_code != 200 or isinstance(response, StreamingResponse):
        return response
    cacheable = set(codes) <= {"VIDEO_NOT_FOUND"}
    return with_cache_headers(response, cache_control(cacheable, ttl, private=private), if_none_match)


class NoStoreGets:
    """``Cache-Control: no-store`` on a GET answer that has no ``Cache-Control`` of its own: only a
    cacheable success (:func:`cached_get`) says how long it keeps."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    message["headers"] = [*headers, (b"cache-control", b"no-store")]
            await send(message)

        await self.app(scope, receive, send_no_store)
