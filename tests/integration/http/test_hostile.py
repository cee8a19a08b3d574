"""Hostile requests against the running gateway: each gets a clear 4xx or a coded GraphQL error,
the emulator sees no call for any of them, and afterwards the gateway answers normally."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from gateway.emulator.model import ALL_SUCCEEDED
from tests.support.harness import Emulator, Gateway, LogRecords

ONE = "query($v: ID!) { transcodeSummary(videoId: $v) { videoId transcodeStatus } }"
LIST = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId } }"


@dataclass
class Hostile:
    name: str
    method: str = "POST"
    json_body: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] | None = None
    status: int | tuple[int, ...] = 200
    codes: set[str] = field(default_factory=set)  # every error's extensions.code is one of these


def deep_introspection(depth: int) -> str:
    inner = "name"
    for _ in range(depth):
        inner = f"ofType {{ {inner} }}"
    return f"{{ __schema {{ types {{ fields {{ type {{ {inner} }} }} }} }} }}"


def bad_ids() -> list[str]:
    return ["a,b", "a b", " a", "视频", "a\u0000b", "a\nb", "x" * 10_240, "", "%2C", "../x", "a;b", "🎬"]


def hostile_requests(valid: str) -> Iterator[Hostile]:
    invalid = {"BAD_USER_INPUT"}
    for n, bad in enumerate(bad_ids()):
        yield Hostile(
            f"bad id {n} as an argument", json_body={"query": ONE, "variables": {"v": bad}}, codes=invalid
        )
        yield Hostile(
            f"bad id {n} in a list beside a valid one",
            json_body={"query": LIST, "variables": {"ids": [valid, bad]}},
            codes=invalid,
        )
        yield Hostile(
            f"bad id {n} in an entity representation",
            json_body={
                "query": "query($r: [_Any!]!) { _entities(representations: $r) { ... on Video { transcodeSummary { videoId } } } }",
                "variables": {"r": [{"__typename": "Video", "id": bad}]},
            },
            codes=invalid,
        )
    aliases = " ".join(f"a{i}: __typename" for i in range(10_000))
    yield Hostile(
        "10,000 aliases", json_body={"query": "{ " + aliases + " }"}, status=413, codes={"PAYLOAD_TOO_LARGE"}
    )
    yield Hostile(
        "10,000 IDs in a list",
        json_body={"query": LIST, "variables": {"ids": [f"v{i}" for i in range(10_000)]}},
        status=413,
        codes={"PAYLOAD_TOO_LARGE"},
    )
    yield Hostile(
        "101 IDs in a list",
        json_body={"query": LIST, "variables": {"ids": [f"v{i}" for i in range(101)]}},
        codes=invalid,
    )
    yield Hostile(
        "depth 100",
        json_body={"query": deep_introspection(100)},
        codes={"GRAPHQL_VALIDATION_FAILED"},
    )
    yield Hostile(
        "a 10 MB body",
        content=b'{"query": "' + b" " * 10_000_000 + b'"}',
        status=413,
        codes={"PAYLOAD_TOO_LARGE"},
    )
    yield Hostile("malformed JSON", content=b'{"query": "{ __typename }"', status=400, codes={"BAD_REQUEST"})
    yield Hostile("JSON that isn't an object", content=b'"{ __typename }"', status=400, codes={"BAD_REQUEST"})
    yield Hostile("not UTF-8", content=b'{"query": "\xff\xfe"}', status=400, codes={"BAD_REQUEST"})
    yield Hostile(
        "the wrong content type",
        content=b"{ __typename }",
        headers={"content-type": "text/plain"},
        status=(400, 415),
        codes={"BAD_REQUEST"},
    )
    yield Hostile(
        "a batched-operation array",
        json_body=[{"query": ONE, "variables": {"v": valid}}] * 50,
        status=400,
        codes={"BAD_REQUEST"},
    )
    yield Hostile(
        "GET with a mutation",
        method="GET",
        params={"query": 'mutation { transcodeSummary(videoId: "x") { videoId } }'},
        status=(400, 405),
        codes={"BAD_REQUEST", "METHOD_NOT_ALLOWED", "GRAPHQL_VALIDATION_FAILED"},
    )
    yield Hostile(
        "GET with a variables blob that isn't JSON",
        method="GET",
        params={"query": ONE, "variables": "{oops"},
        status=400,
        codes={"BAD_REQUEST"},
    )
    yield Hostile(
        "an unknown operation name",
        json_body={"query": ONE, "variables": {"v": valid}, "operationName": "Nope"},
        status=(200, 400),
        codes={"BAD_REQUEST", "GRAPHQL_VALIDATION_FAILED"},
    )
    schema_aliases = " ".join(f"s{i}: __schema {{ types {{ name }} }}" for i in range(200))
    yield Hostile(
        "200 aliased introspections",
        json_body={"query": "{ " + schema_aliases + " }"},
        codes={"GRAPHQL_VALIDATION_FAILED"},
    )
    yield Hostile(
        "a fragment cycle",
        json_body={"query": "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"},
        codes={"GRAPHQL_VALIDATION_FAILED"},
    )
    for leaf, code in (
        ('transcodeSummary(videoId: "v") { videoId }', "BAD_USER_INPUT"),
        ("a: __typename", "GRAPHQL_VALIDATION_FAILED"),
    ):
        # 40 levels of fragments spreading the next one twice: 2 KB that ask for it 2^40 times
        doubling = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
        query = "{ ...F0 } " + doubling + " fragment F40 on Query { " + leaf + " }"
        yield Hostile(
            f"fragments doubling 40 times: {leaf.split('(')[0]}", json_body={"query": query}, codes={code}
        )
    yield Hostile(
        "an empty query", json_body={"query": ""}, status=400, codes={"BAD_REQUEST", "GRAPHQL_PARSE_FAILED"}
    )
    yield Hostile("no query at all", json_body={"variables": {}}, status=400, codes={"BAD_REQUEST"})
    yield Hostile(
        "a variable of the wrong type",
        json_body={"query": ONE, "variables": {"v": {"nested": ["x"]}}},
        codes={"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"},
    )


@pytest.fixture
def target(emulator: Emulator, make_gateway: Callable[..., Gateway]) -> tuple[Emulator, Gateway]:
    return emulator, make_gateway(emulator)


def send(client: httpx.Client, url: str, case: Hostile) -> httpx.Response:
    if case.method == "GET":
        return client.get(url, params=case.params)
    headers = {"content-type": "application/json", **case.headers}
    content = case.content if case.json_body is None else json.dumps(case.json_body).encode()
    return client.post(url, content=content, headers=headers)


def test_hostile_requests_get_clear_errors_and_cost_no_upstream_call(
    target: tuple[Emulator, Gateway], gateway_logs: LogRecords
) -> None:
    emulator, gateway = target
    valid, untouched = emulator.ids(ALL_SUCCEEDED, 2)
    cases = list(hostile_requests(valid))
    with httpx.Client(timeout=30) as client:
        before = timed_query(client, gateway, valid)
        emulator.state.reset()
        for case in cases:
            response = send(client, gateway.graphql_url, case)
            allowed = case.status if isinstance(case.status, tuple) else (case.status,)
            assert response.status_code in allowed, (case.name, response.status_code, response.text[:300])
            body = response.json()
            errors = body.get("errors") or []
            assert errors, (case.name, body)
            for error in errors:
                code = error.get("extensions", {}).get("code")
                assert code in case.codes, (case.name, error)
                assert len(error["message"]) < 500 and "Traceback" not in error["message"], (case.name, error)
            assert emulator.state.stats.calls == 0, case.name  # not one call for any of them
        emulator.state.reset()
        after = timed_query(client, gateway, untouched)
    assert emulator.state.stats.calls == 1  # the gateway still answers, and asks the upstream once
    assert gateway_logs.errors() == []
    print(
        f"\n{len(cases)} hostile requests refused; a normal query took {before:.1f} ms before, {after:.1f} ms after"
    )


def timed_query(client: httpx.Client, gateway: Gateway, video_id: str) -> float:
    """A normal query, checked, in ms (printed, never asserted on)."""
    started = time.perf_counter()
    response = client.post(gateway.graphql_url, json={"query": ONE, "variables": {"v": video_id}})
    elapsed = (time.perf_counter() - started) * 1000
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    assert body["data"]["transcodeSummary"]["videoId"] == video_id
    return elapsed


def test_raised_limits_still_refuse_huge_operations_before_any_call(
    emulator: Emulator, make_gateway: Callable[..., Gateway]
) -> None:
    """With the body limit out of the way, the token, alias and ID limits still stop them."""
    gateway = make_gateway(emulator, GATEWAY_MAX_BODY_BYTES="20000000")
    aliases = " ".join(f'a{i}: transcodeSummary(videoId: "v{i}") {{ videoId }}' for i in range(10_000))
    with httpx.Client(timeout=60) as client:
        many = client.post(gateway.graphql_url, json={"query": "{ " + aliases + " }"}).json()
        ids = client.post(
            gateway.graphql_url, json={"query": LIST, "variables": {"ids": [f"v{i}" for i in range(10_000)]}}
        ).json()
    assert many["data"] is None and many["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "token" in many["errors"][0]["message"].lower()
    assert ids["data"] is None and ids["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert emulator.state.stats.calls == 0
