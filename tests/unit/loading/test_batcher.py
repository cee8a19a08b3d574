"""The gateway-wide scheduler with a manual clock and a fake upstream."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from gateway.loading.batcher import Batcher
from gateway.loading.cache import CacheTTLs, MemoryCache
from gateway.loading.errors import RateLimited, ShuttingDown
from gateway.loading.limiter import Admission, Grant, SlidingWindowLimiter
from gateway.vod.client import Admit
from gateway.vod.errors import NoResponse, VideoNotFound
from gateway.vod.models import SummaryPage, SummaryStatus, TranscodeSummaryRecord
from tests.support.clock import ManualClock


def record(video_id: str, status: SummaryStatus = SummaryStatus.COMPLETE_ALL_SUCC) -> TranscodeSummaryRecord:
    return TranscodeSummaryRecord(video_id, status, None, None, None, ())


class FakeUpstream:
    """Answers every ID but those in ``missing``; ``hold`` keeps calls open until released."""

    def __init__(self, missing: Sequence[str] = (), fail: Sequence[str] = ()) -> None:
        self.calls: list[list[str]] = []
        self.missing = set(missing)
        self.fail = set(fail)
        self.hold: asyncio.Event | None = None

    async def __call__(self, ids: list[str], deadline: float, admit: Admit) -> SummaryPage:
        permit = await admit(deadline)
        try:
            self.calls.append(list(ids))
            if self.hold is not None:
                await self.hold.wait()
            if self.fail & set(ids):
                raise NoResponse("boom")
            found = {i: record(i) for i in ids if i not in self.missing}
            return SummaryPage("r", found, frozenset(self.missing & set(ids)))
        finally:  # as the VOD client does: the answer is in
            if permit is not None:
                await permit.release()


def make(
    upstream: FakeUpstream, qps: int = 15, cache: bool = False, max_wait: float = 10.0
) -> tuple[Batcher, ManualClock]:
    clock = ManualClock()
    admission = Admission(SlidingWindowLimiter(qps, clock), clock)
    mem = MemoryCache(CacheTTLs(), clock) if cache else None
    return Batcher(upstream, admission, clock, cache=mem, max_wait=max_wait), clock


async def test_idle_lookup_goes_out_at_once() -> None:
    upstream = FakeUpstream()
    batcher, clock = make(upstream)
    task = asyncio.create_task(batcher.load_many(["a"]))
    await clock.idle()
    assert upstream.calls == [["a"]]
    assert [r.video_id for r in await task] == ["a"]  # type: ignore[union-attr]


async def test_25_ids_make_3_calls_and_duplicates_share() -> None:
    upstream = FakeUpstream()
    batcher, _ = make(upstream)
    ids = [f"v{i}" for i in range(25)]
    results = await batcher.load_many([*ids, "v0", "v3"])
    assert [len(c) for c in upstream.calls] == [10, 10, 5]
    assert results[25] is results[0] and results[26] is results[3]


async def test_single_flight_across_requests() -> None:
    upstream = FakeUpstream()
    upstream.hold = asyncio.Event()
    batcher, clock = make(upstream)
    first = asyncio.create_task(batcher.load_many(["a", "b"]))
    await clock.idle()
    others = [asyncio.create_task(batcher.load_many(["a"])) for _ in range(5)]
    await clock.idle()
    upstream.hold.set()
    results = await asyncio.gather(first, *others)
    assert upstream.calls == [["a", "b"]]
    assert all(r[0] is results[0][0] for r in results)


async def test_saturated_calls_fill_to_ten_oldest_first() -> None:
    upstream = FakeUpstream()
    batcher, clock = make(upstream, qps=1)
    await batcher.load_many(["warm"])  # spends the only call of this second
    tasks = []
    for i in range(25):
        tasks.append(asyncio.create_task(batcher.load_many([f"v{i:02d}"])))
        await clock.idle()
    for _ in range(3):
        await clock.advance(1.0)
    await asyncio.gather(*tasks)
    assert upstream.calls[1:] == [
        [f"v{i:02d}" for i in range(0, 10)],
        [f"v{i:02d}" for i in range(10, 20)],
        [f"v{i:02d}" for i in range(20, 25)],
    ]


async def test_one_failing_batch_fails_only_its_ids() -> None:
    upstream = FakeUpstream(fail=["bad"])
    batcher, _ = make(upstream)
    ids = ["bad", *[f"x{i}" for i in range(9)], *[f"y{i}" for i in range(5)]]
    results = await batcher.load_many(ids)
    assert all(isinstance(r, NoResponse) for r in results[:10])
    assert all(not isinstance(r, Exception) for r in results[10:])


async def test_not_found_ids_and_missing_from_answer() -> None:
    upstream = FakeUpstream(missing=["gone"])
    batcher, _ = make(upstream)
    results = await batcher.load_many(["a", "gone", "b"])
    assert isinstance(results[1], VideoNotFound) and results[1].video_id == "gone"
    assert not isinstance(results[0], Exception) and not isinstance(results[2], Exception)


async def test_cancelled_waiter_does_not_poison_others() -> None:
    upstream = FakeUpstream()
    upstream.hold = asyncio.Event()
    batcher, clock = make(upstream)
    doomed = asyncio.create_task(batcher.load_many(["a"]))
    survivor = asyncio.create_task(batcher.load_many(["a"]))
    await clock.idle()
    doomed.cancel()
    await clock.idle()
    upstream.hold.set()
    result = await survivor
    assert result[0].video_id == "a"  # type: ignore[union-attr]
    with pytest.raises(asyncio.CancelledError):
        await doomed


async def test_ids_nobody_waits_for_are_not_fetched() -> None:
    upstream = FakeUpstream()
    batcher, clock = make(upstream, qps=1)
    await batcher.load_many(["warm"])
    abandoned = asyncio.create_task(batcher.load_many(["x"]))
    kept = asyncio.create_task(batcher.load_many(["y"]))
    await clock.idle()
    abandoned.cancel()
    await clock.idle()
    await clock.advance(1.0)
    await kept
    assert upstream.calls == [["warm"], ["y"]]


async def test_wait_budget_gives_rate_limited() -> None:
    upstream = FakeUpstream()
    batcher, clock = make(upstream, qps=1, max_wait=2.5)
    await batcher.load_many(["warm"])
    tasks = [asyncio.create_task(batcher.load_many([f"v{i}"])) for i in range(35)]
    await clock.idle()
    for _ in range(5):
        await clock.advance(1.0)
    results = [r[0] for r in await asyncio.gather(*tasks)]
    served = [r for r in results if not isinstance(r, Exception)]
    limited = [r for r in results if isinstance(r, RateLimited)]
    assert len(served) == 20 and len(limited) == 15  # two calls fit in 2.5 s; the rest time out
    assert len(upstream.calls) == 3


async def test_cache_serves_repeats_without_calls() -> None:
    upstream = FakeUpstream(missing=["gone"])
    batcher, clock = make(upstream, cache=True)
    await batcher.load_many(["a", "gone"])
    await batcher.load_many(["a", "gone"])
    assert len(upstream.calls) == 1
    await clock.advance(31)
    await batcher.load_many(["a"])
    assert len(upstream.calls) == 2


async def test_errors_are_not_cached() -> None:
    upstream = FakeUpstream(fail=["bad"])
    batcher, _ = make(upstream, cache=True)
    await batcher.load_many(["bad"])
    await batcher.load_many(["bad"])
    assert len(upstream.calls) == 2


async def test_a_burst_fills_calls_instead_of_spending_the_budget() -> None:
    upstream = FakeUpstream()
    clock = ManualClock()
    admission = Admission(SlidingWindowLimiter(15, clock), clock)
    batcher = Batcher(upstream, admission, clock, pace=0.07)
    upstream.hold = asyncio.Event()  # calls stay in flight: a burst, not an idle gateway
    tasks = [asyncio.create_task(batcher.load_many(["first"]))]
    await clock.idle()
    assert upstream.calls == [["first"]]  # idle: out at once
    for i in range(5):
        tasks.append(asyncio.create_task(batcher.load_many([f"b{i}"])))
        await clock.advance(0.01)
    assert len(upstream.calls) == 1  # held for the pace, filling meanwhile
    await clock.advance(0.03)
    assert upstream.calls[1] == [f"b{i}" for i in range(5)]
    for i in range(12):
        tasks.append(asyncio.create_task(batcher.load_many([f"c{i}"])))
    await clock.idle()  # no time passes
    assert upstream.calls[2] == [f"c{i}" for i in range(10)]  # a full call goes at once
    assert len(upstream.calls) == 3  # the part-filled rest waits its turn, filling meanwhile
    await clock.advance(0.07)
    assert upstream.calls[3] == ["c10", "c11"]
    upstream.hold.set()
    await asyncio.gather(*tasks)


async def test_an_idle_gateway_never_holds_a_lookup() -> None:
    upstream = FakeUpstream()
    clock = ManualClock()
    batcher = Batcher(upstream, Admission(SlidingWindowLimiter(15, clock), clock), clock, pace=0.07)
    for i in range(5):
        task = asyncio.create_task(batcher.load_many([f"s{i}"]))
        await clock.idle()
        assert len(upstream.calls) == i + 1  # sent on the next turn, no timer
        await task
        await clock.advance(0.07)  # no call within the last call interval: idle


class CountingLimiter:
    """The local limiter, counting grants taken and not yet released."""

    def __init__(self, clock: ManualClock, calls: int = 15) -> None:
        self._inner = SlidingWindowLimiter(calls, clock)
        self.out = 0

    async def try_acquire(self) -> tuple[float, Grant | None]:
        wait, grant = await self._inner.try_acquire()
        if grant is None:
            return wait, None
        self.out += 1
        counter = self

        class Counted:
            async def release(self) -> None:
                counter.out -= 1
                await grant.release()

        return 0.0, Counted()


async def test_every_grant_goes_back_whatever_became_of_its_batch() -> None:
    """A grant unreturned would hold its place in the window for good (well, for MAX_HOLD)."""
    clock = ManualClock()
    limiter = CountingLimiter(clock)
    upstream = FakeUpstream(fail=["bad"])
    batcher = Batcher(upstream, Admission(limiter, clock), clock)
    await batcher.load_many([f"v{i}" for i in range(25)])  # three calls
    await batcher.load_many(["bad", "ok"])  # a failed call
    upstream.hold = asyncio.Event()
    held = asyncio.create_task(batcher.load_many(["slow"]))
    await clock.idle()
    assert limiter.out == 1  # out while its call is
    upstream.hold.set()
    await held

    async def broken(ids: list[str], deadline: float, admit: Admit) -> SummaryPage:
        raise RuntimeError("a bug before the call: the pump's grant was never used")

    batcher = Batcher(broken, Admission(limiter, clock), clock)
    assert isinstance((await batcher.load_many(["x"]))[0], Exception)
    assert limiter.out == 0


async def test_shutdown_answers_every_waiter_and_returns_every_grant() -> None:
    clock = ManualClock()
    limiter = CountingLimiter(clock, calls=1)
    upstream = FakeUpstream()
    upstream.hold = asyncio.Event()
    batcher = Batcher(upstream, Admission(limiter, clock), clock)
    out = asyncio.create_task(batcher.load_many(["a"]))  # its call is out, held upstream
    await clock.idle()
    queued = asyncio.create_task(batcher.load_many(["b"]))  # waits for the only grant
    await clock.idle()
    closing = asyncio.create_task(batcher.aclose(grace=5.0))
    await clock.idle()
    upstream.hold.set()  # the call out finishes within the grace
    await closing
    assert [r.video_id for r in await out] == ["a"]  # type: ignore[union-attr]
    [b] = await queued
    assert isinstance(b, ShuttingDown) and "shutting down" in b.message
    assert limiter.out == 0
