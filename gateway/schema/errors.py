"""Every error a client sees: its code (one enum), chosen by the exception's type, never by its
message; one masking rule; one envelope. The schema's :class:`~gateway.schema.guards.Guards`
extension applies them to every result of every transport (HTTP, streams, WebSocket), as
Strawberry's ``MaskErrors`` does.

How an error gets its code, in order:

1. an exception of ours (``vod.errors``, ``loading.errors``) behind it: by its type (:data:`_BY_TYPE`);
2. a code set where the error was made (``bad_user_input``, the ID budget, variable coercion in
   :class:`GatewayExecutor`): kept;
3. a :class:`~graphql.GraphQLSyntaxError`: ``GRAPHQL_PARSE_FAILED``;
4. an error of the validation phase: ``GRAPHQL_VALIDATION_FAILED``;
5. anything else, a foreign exception or graphql-core's own complaint about a value a resolver
   returned, is a bug: ``INTERNAL_SERVER_ERROR``, its message masked and logged once.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import AsyncGenerator, Iterable, Set
from enum import StrEnum
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.loading.errors import InternalFailure, LookupFailed, RateLimited, ShuttingDown
from gateway.vod.errors import (
    NoResponse,
    ServiceError,
    ServiceThrottled,
    ServiceUnavailable,
    VideoNotFound,
    VodError,
)

log = logging.getLogger("gateway.graphql")


class ErrorCode(StrEnum):
    VIDEO_NOT_FOUND = "VIDEO_NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    RATE_LIMITED = "RATE_LIMITED"
    UPSTREAM_THROTTLED = "UPSTREAM_THROTTLED"
    UPSTREAM_ERROR = "UPSTREAM_ERROR"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_REQUEST = "BAD_REQUEST"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


# most specific first
_BY_TYPE: tuple[tuple[type[Exception], ErrorCode], ...] = (
    (VideoNotFound, ErrorCode.VIDEO_NOT_FOUND),
    (ServiceThrottled, ErrorCode.UPSTREAM_THROTTLED),
    (ServiceUnavailable, ErrorCode.UPSTREAM_UNAVAILABLE),
    (NoResponse, ErrorCode.UPSTREAM_UNAVAILABLE),
    (ServiceError, ErrorCode.UPSTREAM_ERROR),
    (RateLimited, ErrorCode.RATE_LIMITED),
    (ShuttingDown, ErrorCode.UPSTREAM_UNAVAILABLE),
    (InternalFailure, ErrorCode.INTERNAL_SERVER_ERROR),
)

EXPECTED = frozenset(ErrorCode) - {ErrorCode.INTERNAL_SERVER_ERROR}
"""Codes that are the client's or the upstream's business, not a bug of ours."""

MASKED_MESSAGE = "Internal server error"


def code_of(exc: VodError | LookupFailed) -> ErrorCode:
    for kind, code in _BY_TYPE:
        if isinstance(exc, kind):
            return code
    return ErrorCode.UPSTREAM_ERROR if isinstance(exc, VodError) else ErrorCode.INTERNAL_SERVER_ERROR


def extensions_of(exc: VodError | LookupFailed) -> dict[str, object]:
    """``code`` and what a client may act on: the video, the service's own code and request ID,
    how long to wait before retrying (seconds, rounded up to a tenth)."""
    ext: dict[str, object] = {"code": code_of(exc).value}
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        ext["retryAfter"] = math.ceil(exc.retry_after * 10) / 10
    if isinstance(exc, VideoNotFound):
        ext["videoId"] = exc.video_id
    if isinstance(exc, ServiceError):
        if exc.upstream_code:
            ext["upstreamCode"] = exc.upstream_code
        if exc.request_id:
            ext["requestId"] = exc.request_id
    return ext


def bad_user_input(message: str, **extensions: object) -> GraphQLError:
    return GraphQLError(message, extensions={"code": ErrorCode.BAD_USER_INPUT.value, **extensions})


def envelope(message: str, code: ErrorCode, **extensions: object) -> dict[str, Any]:
    """The body of a refusal that never reached execution (401, 413, 400, ...)."""
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code.value, **extensions}}]}


def coded(error: GraphQLError, validation: bool = False) -> GraphQLError:
    """``error`` as the client sees it: with its code, masked if it is a bug. ``validation``: the
    error came from the validation phase."""
    original = error.original_error
    if isinstance(original, VodError | LookupFailed):
        code = code_of(original)
        if code is ErrorCode.INTERNAL_SERVER_ERROR:
            return _masked(error)
        return _with(error, original.message, extensions_of(original))
    if (error.extensions or {}).get("code"):
        return error
    if isinstance(original, InvalidOperationTypeError | CannotGetOperationTypeError):
        return _wrong_transport(error, original)
    if original is not None and not isinstance(original, GraphQLError):
        return _masked(error)
    if isinstance(error, GraphQLSyntaxError):
        return _with(error, error.message, {"code": ErrorCode.GRAPHQL_PARSE_FAILED.value})
    if validation:
        return _with(error, error.message, {"code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value})
    return _masked(error)


def _with(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), **extensions},
    )


def _wrong_transport(
    error: GraphQLError, original: InvalidOperationTypeError | CannotGetOperationTypeError
) -> GraphQLError:
    """An operation the transport doesn't run (a subscription over plain HTTP, a query over
    graphql-ws): the client's mistake, said plainly; the HTTP view answers it with 400."""
    if isinstance(original, CannotGetOperationTypeError):
        return _with(error, error.message, {"code": ErrorCode.BAD_REQUEST.value})
    kind = original.operation_type.value
    hint = (
        "subscriptions need a WebSocket (graphql-transport-ws or graphql-ws), or a streaming "
        "Accept header (multipart/mixed or text/event-stream)"
        if kind == "subscription"
        else "graphql-ws and multipart/mixed;subscriptionSpec=1.0 run subscriptions only, and a GET "
        "queries only: send queries over HTTP or graphql-transport-ws, mutations as a POST"
    )
    return _with(
        error, f"{error.message} here: {hint}", {"code": ErrorCode.BAD_REQUEST.value, "operationType": kind}
    )


def _masked(error: GraphQLError) -> GraphQLError:
    original = error.original_error or error
    tb = original.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
    log.error("unexpected error at %s: %s: %s (%s)", error.path, type(original).__name__, original, where)
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value},
    )


def code_errors(result: object, validation: Set[int] = frozenset()) -> None:
    """``result.errors`` coded (``validation``: ids of the errors of the validation phase)."""
    errors: Iterable[GraphQLError] | None = getattr(result, "errors", None)
    if errors:
        processed = [coded(e, id(e) in validation) for e in errors]
        for error in processed:
            code = (error.extensions or {}).get("code")
            if code in EXPECTED:
                log.debug("graphql error %s at %s: %s", code, error.path, error.message)
        result.errors = processed  # type: ignore[attr-defined]


def code_payload(result: object, validation: Set[int] = frozenset()) -> None:
    """A stream's result, or an incremental payload with its ``incremental`` and ``completed`` parts."""
    code_errors(result, validation)
    for part in (*(getattr(result, "incremental", None) or ()), *(getattr(result, "completed", None) or ())):
        code_errors(part, validation)


def coded_increments(result: Any) -> Any:
    """An incremental result (``@defer``, ``@stream``) run by ``execute`` with its later payloads
    coded as they go out: the operation's hooks have returned by then."""
    subsequent = getattr(result, "subsequent_results", None)
    if subsequent is None:
        return result

    async def coded_payloads() -> AsyncGenerator[Any, None]:
        async with contextlib.aclosing(subsequent) as payloads:
            async for payload in payloads:
                code_payload(payload)
                yield payload

    return result._replace(subsequent_results=coded_payloads())


class GatewayExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with the request errors it finds before running anything
    (variables that don't coerce, an unknown operation name) coded ``BAD_USER_INPUT``."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        built = super().build(*args, **kwargs)
        if isinstance(built, list):
            return [_with(e, e.message, {"code": ErrorCode.BAD_USER_INPUT.value}) for e in built]
        return execute_early(built)  # @defer and @stream lookups batch with the rest (schema/streaming.py)


def execute_early(executor: Any) -> Any:
    """``executor`` (graphql-core's, once built) with early execution of incremental work: streamed
    items and deferred fragments start with the initial payload, so their lookups share calls with
    it instead of going out one at a time (``schema/streaming.py``)."""
    if hasattr(executor, "enable_early_execution"):
        executor.enable_early_execution = True
    return executor
