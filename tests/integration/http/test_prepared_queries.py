"""Prepared queries (``schema/prepared.py``, ``http/prepared.py``) answer exactly what the standard
path answers: for every request below, a gateway with them on gives, from its second request of
the same text on, the very status, content type and bytes of one with them off; and only the plain
summary queries are answered prepared."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway.emulator.model import ALL_SUCCEEDED, PROCESSING
from tests.support.harness import Emulator, Gateway

JOBS = "jobs { definition format transcodeJobStatus transcodeProgress width height bitrate fileSize }"
LIST = f"query L($ids: [ID!]!) {{ transcodeSummaries(videoIds: $ids) {{ videoId transcodeStatus progress {JOBS} }} }}"
ONE = "query O($v: ID!) { s: transcodeSummary(videoId: $v) { __typename videoId creationTime completeTime } }"
SHAPES = """
query Shapes($ids: [ID!]!, $v: ID!) {
  __typename
  first: transcodeSummary(videoId: $v) { ...Summary status: transcodeStatus }
  all: transcodeSummaries(videoIds: $ids) {
    ... on TranscodeSummary { videoId }
    ...Summary
    jobs { t: __typename ... on TranscodeJob { p: transcodeProgress } format @include(if: true) }
  }
}
fragment Summary on TranscodeSummary { progress transcodeStatus }
query Other { transcodeSummaries(videoIds: ["x"]) { videoId } }
"""


def prepared_lines(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for r in caplog.records if getattr(r, "fields", {}).get("prepared"))


@pytest.fixture
def pair(emulator: Emulator, make_gateway: Callable[..., Gateway]) -> tuple[Gateway, Gateway]:
    """(standard only, prepared on), both without the response cache."""
    standard = make_gateway(emulator, GATEWAY_PREPARED_QUERIES="false", GATEWAY_RESPONSE_CACHE_TTL="0")
    return standard, make_gateway(emulator, GATEWAY_RESPONSE_CACHE_TTL="0")


def answers(
    pair: tuple[Gateway, Gateway], body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[httpx.Response, httpx.Response]:
    standard, prepared = pair
    content = json.dumps(body)
    sent = {"content-type": "application/json", **(headers or {})}
    expected = httpx.post(standard.graphql_url, content=content, headers=sent)
    httpx.post(prepared.graphql_url, content=content, headers=sent)  # the standard path: it learns
    got = httpx.post(prepared.graphql_url, content=content, headers=sent)
    assert (got.status_code, got.headers["content-type"]) == (
        expected.status_code,
        expected.headers["content-type"],
    )
    assert got.content == expected.content
    return expected, got


def test_plain_summary_queries_are_answered_prepared_with_the_same_bytes(
    emulator: Emulator, pair: tuple[Gateway, Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    done, running = emulator.ids(ALL_SUCCEEDED, 3), emulator.ids(PROCESSING, 2)
    bodies: list[dict[str, Any]] = [
        {"query": LIST, "variables": {"ids": [*done, *running, done[0]]}},
        {"query": ONE, "variables": {"v": running[0]}, "operationName": "O"},
        {"query": SHAPES, "variables": {"ids": done, "v": running[1]}, "operationName": "Shapes"},
        {"query": f'{{ transcodeSummaries(videoIds: ["{done[1]}", "{done[2]}"]) {{ videoId {JOBS} }} }}'},
        {"query": f'{{ transcodeSummary(videoId: "{done[0]}") {{ videoId progress }} }}', "variables": None},
        {"query": LIST.replace("query L", "query E"), "variables": {"ids": [], "unused": 1}},
    ]
    with caplog.at_level(logging.INFO, logger="gateway.graphql"):
        for body in bodies:
            expected, _ = answers(pair, body)
            assert expected.json().get("errors") is None
    assert prepared_lines(caplog) == len(bodies)


@pytest.mark.parametrize(
    "accept",
    [
        "application/graphql-response+json",
        "application/json, multipart/mixed;subscriptionSpec=1.0",
        "text/event-stream, application/json",
        "*/*",
    ],
)
def test_content_negotiation_is_the_standard_paths(
    emulator: Emulator, pair: tuple[Gateway, Gateway], caplog: pytest.LogCaptureFixture, accept: str
) -> None:
    body = {"query": LIST, "variables": {"ids": emulator.ids(ALL_SUCCEEDED, 2)}}
    with caplog.at_level(logging.INFO, logger="gateway.graphql"):
        answers(pair, body, {"accept": accept})
    assert prepared_lines(caplog) == 1


def test_what_a_prepared_query_cant_answer_exactly_goes_the_standard_way(
    emulator: Emulator, pair: tuple[Gateway, Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    done = emulator.ids(ALL_SUCCEEDED, 2)
    too_many = [f"v{i}" for i in range(101)]
    bodies: list[dict[str, Any]] = [
        {"query": LIST, "variables": {"ids": [done[0], emulator.missing_id]}},  # VIDEO_NOT_FOUND at [1]
        {"query": LIST, "variables": {"ids": [done[0], "not valid!"]}},  # BAD_USER_INPUT at [1]
        {"query": LIST, "variables": {"ids": [done[0], 7]}},  # an Int coerces to "7"
        {"query": LIST, "variables": {"ids": done[0]}},  # one value coerces to a list
        {"query": LIST, "variables": {"ids": None}},  # a null for a non-null variable
        {"query": LIST},  # no variables at all
        {"query": LIST, "variables": {"ids": too_many}},  # over GATEWAY_MAX_IDS
        {"query": ONE, "variables": {"v": done[1]}, "operationName": "Nope"},  # an unknown operation
        {"query": SHAPES, "variables": {"ids": done, "v": done[0]}},  # two operations, none chosen
        {
            "query": "query($v: ID!, $n: Int) { transcodeSummary(videoId: $v) { videoId } }",
            "variables": {"v": done[0], "n": "x"},
        },
        {
            "query": 'query($v: ID! = "a") { transcodeSummary(videoId: $v) { videoId } }',
            "variables": {"v": done[0]},
        },
        {
            "query": 'query($s: Boolean!) { transcodeSummaries(videoIds: ["a"]) { videoId @skip(if: $s) } }',
            "variables": {"s": True},
        },
        {"query": f'{{ videos(ids: ["{done[0]}"]) {{ id transcodeSummary {{ videoId }} }} }}'},
        {"query": f'{{ transcodeSummary(videoId: "{done[0]}") @include(if: true) {{ videoId }} }}'},
        {
            "query": f'{{ a: transcodeSummary(videoId: "{done[0]}") {{ videoId }} a: transcodeSummary(videoId: "{done[0]}") {{ progress }} }}'
        },
        {
            "query": f'{{ transcodeSummaries(videoIds: ["{done[0]}"]) {{ videoId }} }}',
            "extensions": {"tracing": 1},
        },
    ]
    with caplog.at_level(logging.INFO, logger="gateway.graphql"):
        for body in bodies:
            answers(pair, body)
    assert prepared_lines(caplog) == 0


def test_a_persisted_querys_hash_alone_is_answered_prepared(
    emulator: Emulator, pair: tuple[Gateway, Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    query = ONE
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    variables = {"v": emulator.ids(ALL_SUCCEEDED)[0]}
    for gateway in pair:  # registered with its text (the standard path: it registers)
        registered = httpx.post(
            gateway.graphql_url, json={"query": query, "variables": variables, "extensions": extensions}
        )
        assert registered.json().get("errors") is None
    with caplog.at_level(logging.INFO, logger="gateway.graphql"):
        answers(pair, {"variables": variables, "extensions": extensions})
    assert prepared_lines(caplog) == 2  # registering it was the standard path, which learnt it
