"""Structured logs: one JSON line per operation and per upstream call, with the request ID, and
never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import httpx
import pytest

from gateway.emulator.model import ALL_SUCCEEDED
from gateway.logs import JsonFormatter
from tests.support.harness import Emulator, Gateway


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("gateway")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous)


def test_one_json_line_per_operation_and_upstream_call(
    emulator: Emulator, make_gateway: Callable[..., Gateway], json_log: io.StringIO
) -> None:
    secret, key = "log-test-secret-value-9876", "api-key-for-log-test-5432"
    gateway = make_gateway(emulator, GATEWAY_API_KEYS=key)
    video = emulator.ids(ALL_SUCCEEDED)[0]
    response = httpx.post(
        gateway.graphql_url,
        json={
            "query": f'{{ a: transcodeSummary(videoId: "{video}") {{ videoId }} b: transcodeSummary(videoId: "{emulator.missing_id}") {{ videoId }} }}'
        },
        headers={"authorization": f"Bearer {key}", "x-request-id": "req-42"},
    )
    assert response.status_code == 200
    wrong = make_gateway(emulator, ALIBABA_CLOUD_ACCESS_KEY_SECRET=secret)
    httpx.post(wrong.graphql_url, json={"query": '{ transcodeSummary(videoId: "abc") { videoId } }'})
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    operations = [entry for entry in lines if entry["msg"] == "graphql operation"]
    upstream = [entry for entry in lines if entry["msg"] == "upstream call"]
    first = next(entry for entry in operations if entry.get("requestId") == "req-42")
    assert first["outcome"] == "partial" and first["errors"] == ["VIDEO_NOT_FOUND"]
    assert {"ts", "level", "logger"} <= set(first)
    assert upstream[0]["outcome"] == "ok" and upstream[0]["ids"] == 2
    assert any(entry["outcome"] == "UPSTREAM_ERROR" for entry in upstream)
    text = json_log.getvalue()
    assert secret not in text and key not in text and "Traceback" not in text


def test_a_refused_operation_gets_its_line_too(
    emulator: Emulator, make_gateway: Callable[..., Gateway], json_log: io.StringIO
) -> None:
    """401 and 413 (answered by the middleware, before the GraphQL view), 400 and 405 (by the view):
    one line each, with the request ID, the outcome the metric counts ("rejected") and the code,
    never the key sent."""
    key, wrong = "api-key-for-refusals-1234", "wrong-key-never-logged-5678"
    gateway = make_gateway(emulator, GATEWAY_API_KEYS=key, GATEWAY_MAX_BODY_BYTES="500")
    query = {"query": "{ __typename }"}
    headers = {"authorization": f"Bearer {wrong}", "x-request-id": "refused-1"}
    assert httpx.post(gateway.graphql_url, json=query, headers=headers).status_code == 401
    big = {"query": "{ __typename }", "variables": {"pad": "x" * 600}}
    headers = {"authorization": f"Bearer {key}", "x-request-id": "refused-2"}
    assert httpx.post(gateway.graphql_url, json=big, headers=headers).status_code == 413
    headers = {"authorization": f"Bearer {key}", "x-request-id": "refused-3"}
    assert httpx.post(gateway.graphql_url, content=b"{oops", headers=headers).status_code == 400
    headers = {**headers, "x-request-id": "refused-4"}
    assert httpx.put(gateway.graphql_url, json=query, headers=headers).status_code == 405
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    refused = {e["requestId"]: e for e in lines if e["msg"] == "graphql operation" and "requestId" in e}
    assert refused["refused-1"]["outcome"] == "rejected"
    assert refused["refused-1"]["errors"] == ["UNAUTHENTICATED"]
    assert refused["refused-2"]["errors"] == ["PAYLOAD_TOO_LARGE"]
    assert refused["refused-3"]["outcome"] == "rejected" and refused["refused-3"]["errors"] == ["BAD_REQUEST"]
    assert refused["refused-4"]["errors"] == ["METHOD_NOT_ALLOWED"]
    metrics = httpx.get(gateway.url + "/metrics").text
    assert 'gateway_graphql_operations_total{outcome="rejected"} 4.0' in metrics
    text = json_log.getvalue()
    assert key not in text and wrong not in text
    assert emulator.accepted_calls == 0
