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


def observe(counter: Any, outcome: str, codes: tuple[str, ...] = (), cached: bool = False) -> None:
    """An operation's count (``counter``: the operations metric, by outcome) and its log line."""
    counter.labels(outcome).inc()
    fields: dict[str, object] = {"outcome": outcome}
    if codes:
        fields["errors"] = list(codes)
    if cached:
        fields["cached"] = True
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
