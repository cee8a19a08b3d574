"""The fair queue under the batcher, exactly: a manual clock, a fake upstream, calls counted."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping

from gateway.loading.batcher import Batcher
from gateway.loading.cache import Outcome
from gateway.loading.errors import FairShareExceeded
from gateway.loading.fair import Budget, FairQueue, Flow
from gateway.loading.limiter import Admission, SlidingWindowLimiter
from gateway.schema.errors import extensions_of
from gateway.vod.client import Admit
from gateway.vod.errors import VideoNotFound
from gateway.vod.models import SummaryPage, SummaryStatus, TranscodeSummaryRecord
from tests.support.clock import ManualClock


class Upstream:
    """Answers every ID; ``hold`` keeps calls open until set."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.hold: asyncio.Event | None = None

    async def __call__(self, ids: list[str], deadline: float, admit: Admit) -> SummaryPage:
        grant = await admit(deadline)
        try:
            self.calls.append(list(ids))
            if self.hold is not None:
                await self.hold.wait()
            found = {
                i: TranscodeSummaryRecord(i, SummaryStatus.COMPLETE_ALL_SUCC, None, None, None, ())
                for i in ids
            }
            return SummaryPage("r", found, frozenset())
        finally:
            await grant.release()


def make(
    qps: int = 1,
    budgets: Mapping[str, Budget] | None = None,
    pace: float = 0.0,
    ids_per_second: float | None = None,
    max_wait: float = 10.0,
) -> tuple[Batcher, Upstream, ManualClock]:
    clock = ManualClock()
    upstream = Upstream()
    admission = Admission(SlidingWindowLimiter(qps, clock), clock)
    batcher = Batcher(
        upstream,
        admission,
        clock,
        budgets=budgets,
        pace=pace,
        ids_per_second=ids_per_second,
        max_wait=max_wait,
    )
    return batcher, upstream, clock


def ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(n)]


async def spend_the_second(batcher: Batcher, upstream: Upstream) -> None:
    """One call now: with qps=1, the next goes a second after its answer, so flows queue up."""
    await batcher.load_many(["warm"])
    assert upstream.calls == [["warm"]]


def start(batcher: Batcher, wanted: list[str], tenant: str = "open") -> asyncio.Task[list[Outcome]]:
    return asyncio.create_task(batcher.flow(tenant).load_many(wanted))


async def test_a_one_id_flow_behind_a_1000_id_flow_goes_out_in_the_next_call() -> None:
    batcher, upstream, clock = make()
    await spend_the_second(batcher, upstream)
    bulk = start(batcher, ids("b", 1000))
    await clock.until(lambda: batcher.pending == 1000, 0, "the bulk flow queued")
    interactive = start(batcher, ["i0"])
    await clock.until(lambda: batcher.pending == 1001, 0, "the interactive flow queued")
    await clock.advance(1.0)
    await clock.until(lambda: len(upstream.calls) == 2, 0, "the next call")
    # the bulk flow's turn, then the new flow's, then the bulk flow's again
    assert upstream.calls[1] == ["b0000", "i0", *ids("b", 9)[1:]]
    assert [r.video_id for r in await interactive] == ["i0"]  # type: ignore[union-attr]
    bulk.cancel()


async def test_two_equal_bulk_flows_share_each_call_equally() -> None:
    batcher, upstream, clock = make()
    await spend_the_second(batcher, upstream)
    a, b = start(batcher, ids("a", 50)), start(batcher, ids("b", 50))
    await clock.until(lambda: batcher.pending == 100, 0, "both flows queued")
    for n in (2, 3):
        await clock.advance(1.0)
        await clock.until(lambda n=n: len(upstream.calls) == n, 0, f"call {n}")  # type: ignore[misc]
    first, second = upstream.calls[1], upstream.calls[2]
    assert first == ["a0000", "b0000", "a0001", "b0001", "a0002", "b0002", "a0003", "b0003", "a0004", "b0004"]
    assert Counter(i[0] for i in second) == {"a": 5, "b": 5}
    a.cancel()
    b.cancel()


async def test_weights_are_honoured_across_tenants() -> None:
    batcher, upstream, clock = make(budgets={"big": Budget(weight=3), "small": Budget(weight=1)})
    await spend_the_second(batcher, upstream)
    tasks = [start(batcher, ids("B", 100), "big"), start(batcher, ids("s", 100), "small")]
    await clock.until(lambda: batcher.pending == 200, 0, "both tenants queued")
    for n in range(2, 6):
        await clock.advance(1.0)
        await clock.until(lambda n=n: len(upstream.calls) == n, 0, f"call {n}")  # type: ignore[misc]
    taken = Counter(i[0] for call in upstream.calls[1:] for i in call)
    assert taken == {"B": 30, "s": 10}
    assert Counter(i[0] for call in upstream.calls[1:3] for i in call) == {"B": 15, "s": 5}
    for task in tasks:
        task.cancel()


async def test_calls_stay_at_ten_ids_at_saturation() -> None:
    batcher, upstream, clock = make(max_wait=60.0)  # 18 s of queue at 1 call/s
    await spend_the_second(batcher, upstream)
    tasks = [start(batcher, ids(f"f{f:02d}-", 7)) for f in range(25)]  # 175 IDs in 25 flows
    await clock.until(lambda: batcher.pending == 175, 0, "every flow queued")
    for n in range(2, 20):
        await clock.advance(1.0)
        await clock.until(lambda n=n: len(upstream.calls) == n, 0, f"call {n}")  # type: ignore[misc]
    await asyncio.gather(*tasks)
    assert [len(c) for c in upstream.calls[1:]] == [10] * 17 + [5]
    assert sorted(i for c in upstream.calls[1:] for i in c) == sorted(
        i for f in range(25) for i in ids(f"f{f:02d}-", 7)
    )


async def test_single_flight_holds_across_flows() -> None:
    batcher, upstream, clock = make(qps=15)
    upstream.hold = asyncio.Event()
    first = start(batcher, ["x", "y"])
    await clock.until(lambda: len(upstream.calls) == 1, 0, "the first call out")
    # y is in flight, s is wanted by both flows while waiting, z by one
    second = start(batcher, ["y", "s", "z"], "t1")
    third = start(batcher, ["s", "y", "x"], "t2")
    # s and z queued once, and sent together while the first call is still open; y and x not again
    await clock.until(lambda: upstream.calls == [["x", "y"], ["s", "z"]], 0, "s and z sent once")
    assert batcher.pending == 0
    upstream.hold.set()
    results = await asyncio.gather(first, second, third)
    sent = Counter(i for c in upstream.calls for i in c)
    assert sent == {"x": 1, "y": 1, "s": 1, "z": 1}
    assert results[1][0] is results[0][1] is results[2][1]  # y: one record for all
    assert results[1][1] is results[2][0]  # s
    assert batcher.queue.flows() == 0 and batcher.queue.waiting_by_tenant() == {}


async def test_a_cancelled_flow_leaves_nothing_behind() -> None:
    batcher, upstream, clock = make()
    await spend_the_second(batcher, upstream)
    gone = start(batcher, [*ids("g", 100), "shared"], "leaver")
    stays = start(batcher, ["shared"], "stayer")
    await clock.until(lambda: batcher.pending == 101, 0, "both queued")
    gone.cancel()
    await clock.until(lambda: batcher.pending == 1, 0, "the cancelled flow's IDs gone")
    assert batcher.queue.flows() == 1 and batcher.queue.waiting_by_tenant() == {"stayer": 1}
    await clock.advance(1.0)
    assert [r.video_id for r in await stays] == ["shared"]  # type: ignore[union-attr]
    assert upstream.calls[1:] == [["shared"]]
    assert batcher.pending == 0 and batcher.queue.flows() == 0 and batcher.queue.waiting_by_tenant() == {}
    await clock.advance(5.0)
    assert len(upstream.calls) == 2  # nothing of the cancelled flow was sent


async def test_the_early_rate_limited_carries_its_expected_wait() -> None:
    # 10 IDs/s for the estimate, VOD_MAX_WAIT 10 s
    batcher, upstream, clock = make(ids_per_second=10.0)
    await spend_the_second(batcher, upstream)
    first = start(batcher, ids("a", 60))  # alone: 6 s
    await clock.until(lambda: batcher.pending == 60, 0, "the first flow queued")
    flow = Flow()
    # 60 new IDs of its own, and the other flow's 60 served at the same pace: 120 IDs at 10 IDs/s
    second = asyncio.create_task(batcher.load_many([*ids("b", 60), "a0000"], flow=flow))
    await clock.until(lambda: "a0000" in flow.queue, 0, "its ID queued already (for the first flow) joined")
    assert batcher.pending == 60 and list(flow.queue) == ["a0000"]  # none of its new IDs queued
    assert not second.done()
    await clock.advance(1.0)
    outcomes = await second
    errors = outcomes[:60]
    assert all(isinstance(e, FairShareExceeded) and e.retry_after == 12.0 for e in errors)
    assert extensions_of(errors[0]) == {"code": "RATE_LIMITED", "retryAfter": 12.0}  # type: ignore[arg-type]
    assert outcomes[60].video_id == "a0000"  # type: ignore[union-attr]
    assert not any(i.startswith("b") for c in upstream.calls for i in c)
    first.cancel()


async def test_a_capped_tenant_waits_for_its_bucket_and_still_sends_full_calls() -> None:
    batcher, upstream, clock = make(qps=15, budgets={"capped": Budget(cap=10)})
    task = start(batcher, ids("c", 30), "capped")
    await clock.until(lambda: len(upstream.calls) == 1, 0, "the first call")
    assert upstream.calls == [ids("c", 10)]
    await clock.advance(0.5)
    assert len(upstream.calls) == 1  # 5 IDs' worth of its bucket: not yet a full call
    await clock.advance(0.5)
    await clock.until(lambda: len(upstream.calls) == 2, 0, "a second's worth later")
    assert upstream.calls[1] == ids("c", 20)[10:]
    await clock.advance(1.0)
    await task
    assert [len(c) for c in upstream.calls] == [10, 10, 10]


async def test_a_flow_asking_again_for_an_id_a_call_just_took_queues_it_again() -> None:
    """A call took the flow's ID and answered it; the flow's first join is not over until its
    waiter wakes. A second join of the same ID by the same flow in that window must be queued
    (the stale join count once made it queued nowhere, and its waiter hung for good)."""
    queue = FairQueue(10.0, 10, 5.0, None, None)
    flow = Flow()
    first = queue.join("v2", flow, 0.0)
    first.waiters += 1
    assert list(queue.take(0.0)) == ["v2"]
    first.resolve(VideoNotFound("v2"))  # answered; its waiter has not left yet
    again = queue.join("v2", flow, 0.0)
    again.waiters += 1
    assert again is not first
    assert list(queue.take(0.0)) == ["v2"]
    first.waiters -= 1  # the first waiter wakes and leaves (as Batcher._join does)
    queue.leave(flow, "v2", first)
    assert flow.refs == {"v2": 1}
