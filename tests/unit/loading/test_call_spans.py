"""Each upstream call is one CLIENT span linked to every operation it serves, and each
operation's flow learns the calls that served it (the operation's span links back to them)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gateway.loading.batcher import Batcher
from gateway.loading.fair import Flow
from gateway.loading.limiter import Admission, SlidingWindowLimiter
from gateway.vod.client import Admit
from gateway.vod.errors import NoResponse
from gateway.vod.models import SummaryPage, SummaryStatus, TranscodeSummaryRecord
from tests.support.clock import ManualClock


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until ``condition`` holds (a wait for a state, bounded, never for time)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def tracing() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


class Upstream:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    async def __call__(self, ids: list[str], deadline: float, admit: Admit) -> SummaryPage:
        permit = await admit(deadline)
        try:
            self.calls.append(list(ids))
            if self.fail:
                raise NoResponse("the upstream did not answer")
            found = {
                i: TranscodeSummaryRecord(i, SummaryStatus.COMPLETE_ALL_SUCC, None, None, None, ())
                for i in ids
            }
            return SummaryPage("req-1", found, frozenset())
        finally:
            await permit.release()


def client_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]


async def test_one_call_serving_two_operations_links_both_and_both_learn_it() -> None:
    provider, exporter = tracing()
    tracer = provider.get_tracer("test")
    clock = ManualClock()
    upstream = Upstream()
    batcher = Batcher(upstream, Admission(SlidingWindowLimiter(15, clock), clock), clock, tracer=tracer)
    operations = [tracer.start_span(f"operation {n}", kind=SpanKind.SERVER) for n in (1, 2)]
    flows = [Flow("web"), Flow("web")]
    for flow, span in zip(flows, operations, strict=True):
        flow.trace = span.get_span_context()

    # both operations join before the pump runs: one call carries the IDs of both
    await asyncio.gather(
        batcher.load_many(["a", "b"], flow=flows[0]), batcher.load_many(["c"], flow=flows[1])
    )

    assert upstream.calls == [["a", "c", "b"]]  # the fair queue takes the flows in turn
    [call] = client_spans(exporter)
    assert call.name == "VOD GetTranscodeSummary"
    assert [link.context for link in call.links] == [s.get_span_context() for s in operations]
    assert call.attributes is not None
    assert dict(call.attributes) == {
        "rpc.system": "aliyun-vod",
        "rpc.method": "GetTranscodeSummary",
        "vod.video_ids.count": 3,
        "vod.outcome": "ok",
        "vod.request_id": "req-1",
        "vod.video_ids.not_found": 0,
        "vod.retries": 0,
    }
    assert [e.name for e in call.events] == ["limiter.granted"]
    assert call.parent is None  # it serves several operations: linked to each, the child of none
    assert flows[0].calls == flows[1].calls == [call.context]
    await batcher.aclose()


async def test_a_failed_call_is_an_error_span_named_by_its_type_without_the_message() -> None:
    provider, exporter = tracing()
    clock = ManualClock()
    batcher = Batcher(
        Upstream(fail=True),
        Admission(SlidingWindowLimiter(15, clock), clock),
        clock,
        tracer=provider.get_tracer("t"),
    )
    [outcome] = await batcher.load_many(["a"])
    assert isinstance(outcome, NoResponse)
    [call] = client_spans(exporter)
    assert call.status.status_code is StatusCode.ERROR
    assert call.status.description == "NoResponse"
    assert call.attributes is not None and call.attributes["vod.outcome"] == "NoResponse"
    assert "did not answer" not in repr(call.to_json())  # messages never go on spans
    assert call.links == ()  # a lookup outside any traced operation
    await batcher.aclose()


async def test_a_poll_and_an_untraced_flow_have_calls_but_no_links() -> None:
    provider, exporter = tracing()
    clock = ManualClock()
    upstream = Upstream()
    batcher = Batcher(
        upstream, Admission(SlidingWindowLimiter(15, clock), clock), clock, tracer=provider.get_tracer("t")
    )
    flow = Flow("web")
    await batcher.load_many(["a"], flow=flow)
    await batcher.poll_many(["b"])
    await until(lambda: len(client_spans(exporter)) == 2)
    assert [s.links for s in client_spans(exporter)] == [(), ()]
    assert flow.calls == []  # nothing to link back to without a span of its own
    await batcher.aclose()
