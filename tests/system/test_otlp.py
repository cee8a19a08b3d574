"""Tracing end to end: a gateway process with OpenTelemetry's standard variables exports OTLP over
HTTP (protobuf) to a real receiver in this test, which decodes what arrives."""

from __future__ import annotations

import gzip
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.support.harness import CANARY, Emulator
from tests.system.procs import gateway, gateway_env

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"


class Receiver:
    """An OTLP/HTTP trace receiver on loopback: keeps each request's raw bytes and decoded spans."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.resources: list[dict[str, Any]] = []
        self.spans: list[Span] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest.FromString(body)
                with lock:
                    receiver.raw.append(body)
                    receiver.paths.append(self.path)
                    for resource_spans in request.resource_spans:
                        receiver.resources.append(
                            {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                        )
                        for scope in resource_spans.scope_spans:
                            receiver.spans.extend(scope.spans)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, kinds: set[int], seconds: float = 20.0) -> list[Span]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if kinds <= {s.kind for s in self.spans}:
                return list(self.spans)
            time.sleep(0.05)  # polling for spans to arrive, with a deadline
        raise AssertionError(f"spans of kinds {kinds} never arrived; got {[s.name for s in self.spans]}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def attributes(span: Span) -> dict[str, object]:
    out: dict[str, object] = {}
    for a in span.attributes:
        value = a.value
        out[a.key] = value.string_value if value.HasField("string_value") else value.int_value
    return out


def test_spans_reach_an_otlp_receiver_with_the_callers_trace_and_both_links(
    emulator: Emulator, receiver: Receiver, tmp_path: Path
) -> None:
    env = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_SERVICE_NAME": "vod-gateway-test",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
    }
    with gateway(tmp_path / "gateway.log", emulator.url, **env) as proc:
        ids = emulator.ids("CompleteAllSucc", 3)
        body = httpx.post(
            proc.url + "/graphql",
            json={
                "query": "query Page($v: [ID!]!) { transcodeSummaries(videoIds: $v) { videoId } }",
                "variables": {"v": ids},
            },
            headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
        ).json()
        assert "errors" not in body
        spans = receiver.wait_for({Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CLIENT})
        proc.assert_clean_log()

    assert set(receiver.paths) == {"/v1/traces"}
    assert {r["service.name"] for r in receiver.resources} == {"vod-gateway-test"}
    [operation] = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    [call] = [s for s in spans if s.kind == Span.SPAN_KIND_CLIENT]
    assert operation.name == "query Page"
    assert operation.trace_id.hex() == TRACE_ID and operation.parent_span_id.hex() == PARENT_ID
    assert attributes(operation)["graphql.operation.type"] == "query"
    assert "graphql.document" not in attributes(operation)  # off unless GATEWAY_TRACE_DOCUMENT
    assert attributes(call)["vod.video_ids.count"] == 3
    assert [(link.trace_id, link.span_id) for link in call.links] == [(operation.trace_id, operation.span_id)]
    assert [(link.trace_id, link.span_id) for link in operation.links] == [(call.trace_id, call.span_id)]
    assert "limiter.granted" in [e.name for e in call.events]
    raw = b"".join(receiver.raw)
    for secret in (CANARY.secret, CANARY.security_token or ""):
        assert secret.encode() not in raw


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_PROTOCOL='grpc' is not supported"),
        ("OTEL_TRACES_EXPORTER", "zipkin", "OTEL_TRACES_EXPORTER='zipkin' is not supported"),
    ],
)
def test_an_unsupported_otel_value_is_one_line_and_exit_2(variable: str, value: str, line: str) -> None:
    env = gateway_env(None, **{"OTEL_TRACES_EXPORTER": "otlp", variable: value})
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--emulator", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith(f"vod-gateway: {line}")
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
