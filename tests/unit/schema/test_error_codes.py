"""Error codes come from the exception's type and the phase that made the error, never from its
message; every transport gets them from the same extension."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from aiodataloader import DataLoader
from graphql import GraphQLError, GraphQLSyntaxError, Source

from gateway.config.settings import load_settings
from gateway.loading.errors import InternalFailure, RateLimited, ShuttingDown
from gateway.schema.build import build_schema
from gateway.schema.context import Context
from gateway.schema.errors import MASKED_MESSAGE, ErrorCode, code_of, coded, extensions_of
from gateway.vod.errors import (
    NoResponse,
    ServiceError,
    ServiceThrottled,
    ServiceUnavailable,
    VideoNotFound,
    VodError,
)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (VideoNotFound("v1"), ErrorCode.VIDEO_NOT_FOUND),
        (NoResponse("the VOD service did not answer in time"), ErrorCode.UPSTREAM_UNAVAILABLE),
        (ServiceUnavailable("5xx", status=503), ErrorCode.UPSTREAM_UNAVAILABLE),
        (ServiceThrottled("throttled", upstream_code="Throttling.User"), ErrorCode.UPSTREAM_THROTTLED),
        (ServiceError("rejected", upstream_code="Forbidden", request_id="r1"), ErrorCode.UPSTREAM_ERROR),
        (RateLimited(1.0), ErrorCode.RATE_LIMITED),
        (ShuttingDown(), ErrorCode.UPSTREAM_UNAVAILABLE),
        (InternalFailure(), ErrorCode.INTERNAL_SERVER_ERROR),
    ],
)
def test_each_failure_type_has_its_code(exc: VodError | RateLimited, code: ErrorCode) -> None:
    assert code_of(exc) is code
    assert extensions_of(exc)["code"] == code.value


def test_extensions_carry_what_a_client_can_act_on() -> None:
    assert extensions_of(VideoNotFound("v1")) == {"code": "VIDEO_NOT_FOUND", "videoId": "v1"}
    answered = ServiceError("x", upstream_code="Forbidden", request_id="rid-9", status=403)
    assert extensions_of(answered) == {
        "code": "UPSTREAM_ERROR",
        "upstreamCode": "Forbidden",
        "requestId": "rid-9",
    }


def test_the_message_never_chooses_the_code() -> None:
    """A graphql-core rewording can't change a code: the same text gets the code of its phase."""
    misleading = "Syntax Error: Variable '$x' got invalid value"
    parse = GraphQLSyntaxError(Source("{"), 0, "something new")
    assert coded(parse).extensions == {"code": "GRAPHQL_PARSE_FAILED"}
    assert coded(GraphQLError(misleading), validation=True).extensions == {
        "code": "GRAPHQL_VALIDATION_FAILED"
    }
    # outside validation, an uncoded error without a cause is graphql-core's complaint about a value
    # the gateway produced: a bug, masked
    masked = coded(GraphQLError(misleading, path=["x"]))
    assert (masked.message, masked.extensions, masked.path) == (
        MASKED_MESSAGE,
        {"code": "INTERNAL_SERVER_ERROR"},
        ["x"],
    )


def test_a_foreign_exception_is_masked() -> None:
    error = coded(GraphQLError("boom", path=["a"], original_error=RuntimeError("secret detail")))
    assert error.message == MASKED_MESSAGE and error.extensions == {"code": "INTERNAL_SERVER_ERROR"}


def _context(batch_result: Any) -> Context:
    async def batch(keys: list[str]) -> list[Any]:
        if isinstance(batch_result, BaseException):
            raise batch_result
        return [batch_result for _ in keys]

    return Context(settings=load_settings({}), summaries=DataLoader(batch))


SCHEMA = build_schema(load_settings({}))


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ transcodeSummary(videoId: ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($v: ID!) { transcodeSummary(videoId: $v) { videoId } }", {}, "BAD_USER_INPUT"),
        ("query($v: ID!) { transcodeSummary(videoId: $v) { videoId } }", {"v": {"a": 1}}, "BAD_USER_INPUT"),
        ('{ transcodeSummary(videoId: "a,b") { videoId } }', None, "BAD_USER_INPUT"),
    ],
    ids=["syntax", "validation", "missing-variable", "uncoercible-variable", "invalid-id"],
)
async def test_query_errors_by_phase(query: str, variables: dict[str, Any] | None, code: str) -> None:
    result = await SCHEMA.execute(query, variable_values=variables, context_value=_context(None))
    assert result.errors and [(e.extensions or {}).get("code") for e in result.errors] == [code]


async def test_a_bug_below_a_resolver_is_masked_with_its_path() -> None:
    query = '{ a: transcodeSummary(videoId: "v1") { videoId } }'
    result = await SCHEMA.execute(query, context_value=_context(KeyError("internal detail")))
    assert result.data == {"a": None}
    assert result.errors and [e.formatted for e in result.errors] == [
        {
            "message": MASKED_MESSAGE,
            "locations": [{"line": 1, "column": 3}],
            "path": ["a"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]


async def test_a_vod_failure_in_a_list_is_coded_at_its_index() -> None:
    query = '{ transcodeSummaries(videoIds: ["v1", "v2"]) { videoId } }'
    result = await SCHEMA.execute(
        query, context_value=_context(ServiceThrottled("t", upstream_code="Throttling"))
    )
    assert result.data == {"transcodeSummaries": [None, None]}
    assert result.errors and sorted(tuple(e.path or ()) for e in result.errors) == [
        ("transcodeSummaries", 0),
        ("transcodeSummaries", 1),
    ]
    assert {e.extensions["code"] for e in result.errors if e.extensions} == {"UPSTREAM_THROTTLED"}


async def test_stream_results_are_coded_by_the_same_extension() -> None:
    """A subscription's events (the path WebSocket and HTTP streams take) are coded too: here the
    field fails because this schema runs without the app's parts."""
    stream = await SCHEMA.subscribe(
        'subscription { transcodeSummaryUpdates(videoIds: ["v1"]) { videoId } }', context_value=_context(None)
    )
    assert isinstance(stream, AsyncGenerator)
    results = [r async for r in stream]
    assert [e.formatted["extensions"] for r in results for e in r.errors or ()] == [
        {"code": "INTERNAL_SERVER_ERROR"}
    ]
    assert all(e.message == MASKED_MESSAGE for r in results for e in r.errors or ())


async def test_stream_validation_errors_are_coded() -> None:
    stream = await SCHEMA.subscribe("subscription { nope }", context_value=_context(None))
    results = [r async for r in stream] if isinstance(stream, AsyncGenerator) else [stream]
    assert [e.formatted["extensions"] for r in results for e in r.errors or ()] == [
        {"code": "GRAPHQL_VALIDATION_FAILED"}
    ]
