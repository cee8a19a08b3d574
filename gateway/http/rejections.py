"""Refusals at the edge, before any operation runs (401, 413, 400, 405): GraphQL-shaped JSON with a
code, logged and counted like the operations the view runs. :class:`CodedRefusal` is one the view
raises while reading a request (a stream past its cap, a persisted query it doesn't know)."""

from __future__ import annotations

import logging
from typing import Any

from cross_web import HTTPException
from starlette.responses import JSONResponse

from gateway.schema.errors import ErrorCode, envelope

log = logging.getLogger("gateway.graphql")

NO_QUERY = (
    'No GraphQL query in the request: POST JSON {"query": ...} or GET ?query=...; '
    "a browser opening this URL gets the GraphiQL explorer (unless GATEWAY_GRAPHIQL=false)"
)
NO_STREAM = (
    ": a plain HTTP request gets one result, and a subscription has many. Subscribe over a "
    "WebSocket (graphql-transport-ws or graphql-ws), or over HTTP with a streaming Accept header: "
    "multipart/mixed;subscriptionSpec=1.0 (Apollo Client) or text/event-stream (graphql-sse)"
)
UNSUPPORTED_TYPE = "Unsupported content type: POST a body of Content-Type application/json"
CODE_BY_STATUS = {  # the view's HTTP refusals (Strawberry's HTTPException): their codes
    400: ErrorCode.BAD_REQUEST,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    406: ErrorCode.BAD_REQUEST,
    415: ErrorCode.BAD_REQUEST,
}


def error_codes(result: Any) -> tuple[str, ...]:
    """The codes of ``result``'s errors, sorted, once each."""
    return tuple(sorted({str((e.extensions or {}).get("code")) for e in result.errors or ()}))


def outcome_of(codes: tuple[str, ...], data: object) -> str:
    return "ok" if not codes else ("partial" if data else "error")


def observe(
    counter: Any, outcome: str, codes: tuple[str, ...] = (), cached: bool = False, prepared: bool = False
) -> None:
    """An operation's count (``counter``: the operations metric, by outcome) and its log line
    (``cached``: answered from the response cache; ``prepared``: as a prepared query)."""
    counter.labels(outcome).inc()
    fields: dict[str, object] = {"outcome": outcome}
    if codes:
        fields["errors"] = list(codes)
    if cached:
        fields["cached"] = True
    if prepared:
        fields["prepared"] = True
    log.info("graphql operation", extra={"fields": fields})


def reject(message: str, code: ErrorCode, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    # the same line the view writes for every operation it runs: a refused one is an operation too
    log.info("graphql operation", extra={"fields": {"outcome": "rejected", "errors": [code.value]}})
    return JSONResponse(envelope(message, code), status_code=status, headers=headers)


class CodedRefusal(HTTPException):
    """Answered with ``status`` and ``{"errors": [error]}``: ``error`` has its message and code
    (and ``data: null`` too unless ``with_data`` is false, as Apollo's persisted query errors)."""

    def __init__(self, status: int, error: dict[str, Any], *, with_data: bool = True) -> None:
        super().__init__(status, str(error["message"]))
        self.error, self.with_data = error, with_data

    @property
    def code(self) -> str:
        return str(self.error.get("extensions", {}).get("code"))

    def body(self) -> dict[str, Any]:
        return {"data": None, "errors": [self.error]} if self.with_data else {"errors": [self.error]}


def coded_error(message: str, code: ErrorCode, **extensions: object) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code.value, **extensions}}
