"""One call: its IDs sent upstream on the pump's grant, and every waiter answered an outcome."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from opentelemetry.trace import Link, NoOpTracer, Span, SpanContext, SpanKind, StatusCode, Tracer, use_span

from gateway.loading.cache import Outcome, SummaryCache
from gateway.loading.errors import InternalFailure, ShuttingDown
from gateway.loading.fair import Entry
from gateway.loading.limiter import Admission, Grant
from gateway.vod.client import Admit
from gateway.vod.errors import VideoNotFound, VodError
from gateway.vod.models import SummaryPage

log = logging.getLogger("gateway.batcher")
_NO_TRACER = NoOpTracer()

Fetch = Callable[[list[str], float, Admit], Awaitable[SummaryPage]]
"""(ids, deadline, admit for retries) -> page; the first attempt's grant is already taken."""


def outcomes_from_page(ids: Sequence[str], page: SummaryPage) -> dict[str, Outcome]:
    """Found → record; listed in NonExistVideoIds or absent from the answer → VideoNotFound."""
    found = page.summaries
    return {i: found[i] if i in found else VideoNotFound(i) for i in ids}


async def send(
    fetch: Fetch,
    admission: Admission,
    cache: SummaryCache | None,
    batch: dict[str, Entry],
    grant: Grant,
    inflight: dict[str, Entry],
    tracer: Tracer | None = None,
    queued_at: int | None = None,
) -> None:
    """Send ``batch`` (already in ``inflight``) on ``grant``; resolve each entry and take it out
    of ``inflight``, whatever happens. The call is one CLIENT span from ``queued_at`` (ns since the
    epoch: when the pump began to wait for the limiter), linked to every operation it serves."""
    ids = list(batch)
    deadline = min(e.deadline for e in batch.values())
    first: Grant | None = grant
    attempts = 0
    span = _call_span(tracer, batch, queued_at)
    if queued_at is not None:
        span.add_event("limiter.granted")  # the wait for the account's limit is start → this event

    async def admit(retry_deadline: float) -> Grant:
        """The first attempt goes on the pump's grant; retries queue for their own."""
        nonlocal first, attempts
        attempts += 1
        if first is not None:
            taken, first = first, None
            return taken
        span.add_event("retry.queued", {"vod.attempt": attempts})
        taken = await admission.acquire(retry_deadline)
        span.add_event("limiter.granted", {"vod.attempt": attempts})
        return taken

    outcomes: dict[str, Outcome]
    try:
        # current for the client's per-attempt events; exceptions are described by name, never recorded
        with use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
            page = await fetch(ids, deadline, admit)
        outcomes = outcomes_from_page(ids, page)
        _describe(span, "ok", page.request_id, ids, outcomes)
        if cache is not None:
            await cache.put_many(outcomes)
    except VodError as exc:
        outcomes = dict.fromkeys(ids, exc)
        _describe(span, type(exc).__name__, getattr(exc, "request_id", None), ids, outcomes)
    except Exception as exc:  # a bug or an unexpected library error: fail only this batch
        log.error("lookup batch failed unexpectedly: %s: %s", type(exc).__name__, exc)
        outcomes = dict.fromkeys(ids, InternalFailure())
        _describe(span, "InternalFailure", None, ids, outcomes)
    except asyncio.CancelledError:
        outcomes = dict.fromkeys(ids, ShuttingDown())
        _describe(span, "ShuttingDown", None, ids, outcomes)
        raise
    finally:
        span.set_attribute("vod.retries", max(0, attempts - 1))
        span.end()
        served_by = span.get_span_context()
        for video_id, entry in batch.items():
            inflight.pop(video_id, None)
            entry.served_by = served_by
            entry.resolve(outcomes[video_id])
        if first is not None:  # the fetch never used the pump's grant
            await first.release()


def _call_span(tracer: Tracer | None, batch: dict[str, Entry], queued_at: int | None) -> Span:
    """The call's span, linked to each operation waiting (span contexts don't hash: kept in order)."""
    operations: list[SpanContext] = []
    for entry in batch.values():
        for trace in entry.traces:
            if isinstance(trace, SpanContext) and trace not in operations:
                operations.append(trace)
    return (tracer or _NO_TRACER).start_span(
        "VOD GetTranscodeSummary",
        kind=SpanKind.CLIENT,
        start_time=queued_at,
        links=[Link(t) for t in operations],
        attributes={
            "rpc.system": "aliyun-vod",
            "rpc.method": "GetTranscodeSummary",
            "vod.video_ids.count": len(batch),
        },
    )


def _describe(
    span: Span, outcome: str, request_id: str | None, ids: list[str], outcomes: dict[str, Outcome]
) -> None:
    """The call's outcome on its span: never a message (it may quote the service), only names."""
    span.set_attribute("vod.outcome", outcome)
    if request_id:
        span.set_attribute("vod.request_id", request_id)
    span.set_attribute("vod.video_ids.not_found", sum(isinstance(outcomes[i], VideoNotFound) for i in ids))
    if outcome != "ok":
        span.set_status(StatusCode.ERROR, outcome)
