"""Refusals at the edge, before any operation runs (401, 413, 400, 405): GraphQL-shaped JSON with a
code, logged and counted like the operations the view runs."""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse

from gateway.schema.errors import ErrorCode, envelope

log = logging.getLogger("gateway.graphql")


def reject(message: str, code: ErrorCode, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    # the same line the view writes for every operation it runs: a refused one is an operation too
    log.info("graphql operation", extra={"fields": {"outcome": "rejected", "errors": [code.value]}})
    return JSONResponse(envelope(message, code), status_code=status, headers=headers)
