"""Callback refetches on the manual clock: triggers within the window cost one lookup, always from
the upstream, ahead of queued queries; the answer reaches watchers and listeners."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from gateway.loading.batcher import Batcher
from gateway.loading.cache import CacheTTLs, MemoryCache, Outcome
from gateway.loading.limiter import Admission, SlidingWindowLimiter
from gateway.loading.poller import Poller
from gateway.loading.refetch import Refetcher
from gateway.vod.client import Admit
from gateway.vod.models import SummaryPage, SummaryStatus, TranscodeSummaryRecord
from tests.support.clock import ManualClock


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


class Upstream:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.status = SummaryStatus.PROCESSING

    async def __call__(self, ids: list[str], deadline: float, admit: Admit) -> SummaryPage:
        permit = await admit(deadline)
        try:
            self.calls.append(list(ids))
            found = {i: TranscodeSummaryRecord(i, self.status, None, None, None, ()) for i in ids}
            return SummaryPage("r", found, frozenset())
        finally:
            await permit.release()


def parts() -> tuple[Upstream, Batcher, Poller, Refetcher, ManualClock]:
    clock = ManualClock()
    upstream = Upstream()
    cache = MemoryCache(CacheTTLs(active=600, terminal=600), clock)
    batcher = Batcher(upstream, Admission(SlidingWindowLimiter(15, clock), clock), clock, cache=cache)
    poller = Poller(batcher.poll_many, clock, interval=600)
    return upstream, batcher, poller, Refetcher(batcher, poller, clock, cache, window=0.25), clock


async def test_duplicate_triggers_within_the_window_cost_one_lookup_past_the_cache() -> None:
    upstream, batcher, poller, refetcher, clock = parts()
    await batcher.load_many(["a", "b"])  # cached as PROCESSING for 600 s
    upstream.status = SummaryStatus.COMPLETE_ALL_SUCC
    refreshed: list[tuple[list[str], list[Outcome]]] = []
    refetcher.on_refreshed(lambda ids, outcomes: refreshed.append((list(ids), list(outcomes))))
    watch = poller.watch()
    watch.add(["a"])
    for _ in range(3):  # VOD delivers the same event more than once
        refetcher.trigger("a")
    refetcher.trigger("b")  # watched by nobody: dropped from the cache, not looked up
    await until(lambda: clock.sleepers == 1)  # the refetch waits out its window
    assert upstream.calls == [["a", "b"]]  # nothing before the window ends
    await clock.advance(0.25)
    await until(lambda: refetcher.idle)
    assert upstream.calls == [["a", "b"], ["a"]]  # one lookup for three triggers, not the cache's answer
    assert (refetcher.triggers, refetcher.lookups) == (4, 1)
    [(forgotten, none), (ids, outcomes)] = refreshed
    assert (forgotten, none, ids) == (["b"], [], ["a"])
    statuses = [o.status for o in outcomes if isinstance(o, TranscodeSummaryRecord)]
    assert statuses == [SummaryStatus.COMPLETE_ALL_SUCC]
    changes = await watch.changes()
    assert changes["a"].status is SummaryStatus.COMPLETE_ALL_SUCC  # type: ignore[union-attr]
    assert poller.due() == []  # final: the poller stops polling it
    # the summary cache was refreshed too: a query now answers the final state without a call
    [cached] = await batcher.load_many(["a"])
    assert cached.status is SummaryStatus.COMPLETE_ALL_SUCC  # type: ignore[union-attr]
    assert len(upstream.calls) == 2
    [fresh] = await batcher.load_many(["b"])  # its stale entry is gone: asked anew
    assert fresh.status is SummaryStatus.COMPLETE_ALL_SUCC  # type: ignore[union-attr]
    assert upstream.calls[-1] == ["b"]
    await refetcher.aclose()
    await batcher.aclose()


async def test_a_trigger_after_the_lookup_started_is_looked_up_again() -> None:
    upstream, batcher, poller, refetcher, clock = parts()
    poller.watch().add(["a"])
    refetcher.trigger("a")
    await until(lambda: clock.sleepers == 1)
    await clock.advance(0.25)
    await until(lambda: len(upstream.calls) == 1)
    refetcher.trigger("a")  # a second event while (or after) the first lookup ran
    await until(lambda: clock.sleepers == 1)
    await clock.advance(0.25)
    await until(lambda: len(upstream.calls) == 2)
    assert upstream.calls == [["a"], ["a"]]
    await refetcher.aclose()
    await batcher.aclose()
