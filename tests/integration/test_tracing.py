"""Spans of a running gateway (in process, on the emulator over loopback): one SERVER span per
operation continuing the caller's traceparent, one CLIENT span per upstream call, linked both ways;
nothing secret on any of them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gateway.app import create_app
from gateway.tracing import Tracing
from tests.harness import CANARY, Emulator, gateway_settings
from tests.support.server import ThreadedServer

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
QUERY = "query Summaries($v: [ID!]!) { transcodeSummaries(videoIds: $v) { videoId progress } }"


@pytest.fixture
def traced(emulator: Emulator) -> Iterator[tuple[str, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(
        gateway_settings(emulator.url, GATEWAY_TRACE_DOCUMENT="true"),
        tracing=Tracing(provider.get_tracer("test"), provider),
    )
    server = ThreadedServer(app)
    server.start()
    try:
        yield server.url + "/graphql", exporter
    finally:
        server.stop()


def of_kind(exporter: InMemorySpanExporter, kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is kind]


def test_an_operation_continues_the_callers_trace_and_links_to_its_two_calls(
    emulator: Emulator, traced: tuple[str, InMemorySpanExporter]
) -> None:
    url, exporter = traced
    ids = emulator.ids("CompleteAllSucc", 12)
    body = httpx.post(
        url, json={"query": QUERY, "variables": {"v": ids}}, headers={"traceparent": TRACEPARENT}
    ).json()
    assert "errors" not in body

    [operation] = of_kind(exporter, SpanKind.SERVER)
    assert operation.name == "query Summaries"
    assert format(operation.context.trace_id, "032x") == TRACE_ID
    assert operation.parent is not None and format(operation.parent.span_id, "016x") == PARENT_ID
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.type"] == "query"
    assert operation.attributes["graphql.operation.name"] == "Summaries"
    assert operation.attributes["graphql.document"] == QUERY  # GATEWAY_TRACE_DOCUMENT=true

    calls = of_kind(exporter, SpanKind.CLIENT)
    assert emulator.accepted_calls == 2
    assert sorted(c.attributes["vod.video_ids.count"] for c in calls if c.attributes) == [2, 10]
    for call in calls:
        assert [link.context for link in call.links] == [operation.context]
        assert call.attributes is not None and call.attributes["vod.outcome"] == "ok"
        assert call.attributes["vod.request_id"]  # the emulator's RequestId, to quote to Alibaba
        assert [e.name for e in call.events] == ["limiter.granted", "vod.attempt"]
    assert sorted(link.context.span_id for link in operation.links) == sorted(
        c.context.span_id for c in calls
    )

    spans = json.dumps([json.loads(s.to_json()) for s in exporter.get_finished_spans()])
    for secret in (CANARY.secret, CANARY.security_token or "", "Signature"):
        assert secret not in spans


def test_without_a_traceparent_an_operation_starts_a_trace_and_errors_are_counted(
    emulator: Emulator, traced: tuple[str, InMemorySpanExporter]
) -> None:
    url, exporter = traced
    body = httpx.post(url, json={"query": "{ transcodeSummary(videoId: 5 }"}).json()
    assert body["errors"]
    [operation] = of_kind(exporter, SpanKind.SERVER)
    assert operation.parent is None
    assert operation.name == "GraphQL Operation"  # it never parsed: no type to name it by
    assert operation.attributes is not None and operation.attributes["graphql.errors.count"] == 1
    assert operation.status.status_code is StatusCode.ERROR
    assert of_kind(exporter, SpanKind.CLIENT) == []
    assert emulator.accepted_calls == 0


def test_a_missing_video_is_counted_on_its_call(
    emulator: Emulator, traced: tuple[str, InMemorySpanExporter]
) -> None:
    url, exporter = traced
    ids = [*emulator.ids("CompleteAllSucc", 2), emulator.missing_id]
    httpx.post(url, json={"query": QUERY, "variables": {"v": ids}})
    [call] = of_kind(exporter, SpanKind.CLIENT)
    assert call.attributes is not None and call.attributes["vod.video_ids.not_found"] == 1
    [operation] = of_kind(exporter, SpanKind.SERVER)
    assert operation.status.status_code is StatusCode.UNSET  # a partial answer: data and errors
