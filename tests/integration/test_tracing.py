"""Spans of a running gateway (in process, on the emulator over loopback): one SERVER span per
operation continuing the caller's traceparent, one CLIENT span per upstream call, linked both ways;
nothing secret on any of them."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gateway.app import create_app
from gateway.tracing import Tracing
from tests.support.harness import CANARY, Emulator, Gateway, gateway_settings
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


def protobuf_fields(data: bytes) -> dict[int, int | bytes]:
    """The top-level fields of a protobuf message (varints and length-delimited; others skipped)."""

    def varint(at: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = data[at]
            value |= (byte & 0x7F) << shift
            at, shift = at + 1, shift + 7
            if byte < 0x80:
                return value, at

    fields: dict[int, int | bytes] = {}
    at = 0
    while at < len(data):
        key, at = varint(at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            fields[number], at = varint(at)
        elif wire == 2:
            size, at = varint(at)
            fields[number], at = data[at : at + size], at + size
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            raise AssertionError(f"unexpected wire type {wire}")
    return fields


FTV1 = {"apollo-federation-include-trace": "ftv1"}
KEYS = "router-key-00001 name=router,web-key-0000001 name=web"


def test_ftv1_answers_only_a_trusted_tenant_that_asks(
    emulator: Emulator, make_gateway: Callable[..., Gateway]
) -> None:
    gateway = make_gateway(emulator, GATEWAY_API_KEYS=KEYS, GATEWAY_FTV1_TENANTS="router")
    ids = emulator.ids("CompleteAllSucc", 2)

    def ask(key: str, headers: dict[str, str]) -> dict[str, Any]:
        return gateway.query(QUERY, {"v": ids}, headers={"authorization": f"Bearer {key}", **headers})

    traced = ask("router-key-00001", FTV1)
    assert traced["data"]["transcodeSummaries"]
    fields = protobuf_fields(base64.b64decode(traced["extensions"]["ftv1"]))
    # Apollo's reports.proto Trace: end_time 3, start_time 4, duration_ns 11, root 14 (the field tree)
    assert {3, 4, 11, 14} <= set(fields)
    assert isinstance(fields[11], int) and fields[11] > 0
    assert isinstance(fields[14], bytes) and fields[14]
    assert "extensions" not in ask("web-key-0000001", FTV1)  # asks, but is not trusted with it
    assert "extensions" not in ask("router-key-00001", {})  # trusted, but did not ask


def test_ftv1_is_off_by_default(emulator: Emulator, gateway: Gateway) -> None:
    body = gateway.query(QUERY, {"v": emulator.ids("CompleteAllSucc", 1)}, headers=FTV1)
    assert "extensions" not in body
