"""The shared poller and the Batcher's low-priority lane, with a manual clock and a fake upstream."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from gateway.loading.batcher import Batcher
from gateway.loading.cache import CacheTTLs, MemoryCache, Outcome
from gateway.loading.limiter import Admission, SlidingWindowLimiter
from gateway.loading.poller import Poller, is_final
from gateway.vod.client import Admit
from gateway.vod.errors import NoResponse, VideoNotFound
from gateway.vod.models import (
    JobStatus,
    SummaryPage,
    SummaryStatus,
    TranscodeJobRecord,
    TranscodeSummaryRecord,
)
from tests.support.clock import ManualClock

PROCESSING = SummaryStatus.PROCESSING
DONE = SummaryStatus.COMPLETE_ALL_SUCC


def record(video_id: str, status: SummaryStatus = PROCESSING, progress: int = 0) -> TranscodeSummaryRecord:
    job_status = JobStatus.TRANSCODING if not status.terminal else JobStatus.TRANSCODE_SUCCESS
    job = TranscodeJobRecord(
        None,
        job_status,
        progress,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        (),
        None,
    )
    return TranscodeSummaryRecord(video_id, status, None, None, None, (job,))


class World:
    """The upstream's current state per video; records every call with its (manual) time."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.state: dict[str, Outcome] = {}
        self.calls: list[tuple[float, list[str]]] = []
        self.fail: set[str] = set()

    def set(self, video_id: str, status: SummaryStatus = PROCESSING, progress: int = 0) -> None:
        self.state[video_id] = record(video_id, status, progress)

    async def lookup(self, ids: Sequence[str]) -> list[Outcome]:
        """A Poller lookup function that answers at once."""
        self.calls.append((self.clock.now(), list(ids)))
        return [self._one(i) for i in ids]

    async def fetch(self, ids: list[str], deadline: float, admit: Admit) -> SummaryPage:
        """A Batcher fetch function."""
        permit = await admit(deadline)
        self.calls.append((self.clock.now(), list(ids)))
        found = {i: o for i in ids if isinstance(o := self._one(i), TranscodeSummaryRecord)}
        if permit is not None:
            await permit.release()  # answered at once
        return SummaryPage("r", found, frozenset(set(ids) - set(found)))

    def _one(self, video_id: str) -> Outcome:
        if video_id in self.fail:
            return NoResponse("boom")
        return self.state.get(video_id) or VideoNotFound(video_id)

    def called_ids(self) -> list[str]:
        return [i for _, ids in self.calls for i in ids]


def progress_of(outcome: Outcome) -> tuple[str, int]:
    assert isinstance(outcome, TranscodeSummaryRecord)
    return outcome.status.value, outcome.progress


async def test_a_round_polls_every_watched_id_once_in_calls_of_ten() -> None:
    clock = ManualClock()
    world = World(clock)
    ids = [f"v{i:02d}" for i in range(25)]
    for i in ids:
        world.set(i)
    poller = Poller(world.lookup, clock, interval=1.0)
    poller.start()
    a, b = poller.watch(), poller.watch()
    a.add(ids)
    b.add(ids[:5])  # shared IDs are polled once
    await clock.idle()
    assert [len(c) for _, c in world.calls] == [10, 10, 5]
    assert sorted(world.called_ids()) == ids
    await clock.advance(0.5)
    assert len(world.calls) == 3  # the next round starts interval after this one ended
    await clock.advance(0.5)
    assert len(world.calls) == 6 and poller.rounds == 2
    await poller.aclose()


async def test_refcounts_and_release_stop_polling() -> None:
    clock = ManualClock()
    world = World(clock)
    world.set("x")
    world.set("y")
    poller = Poller(world.lookup, clock, interval=1.0)
    poller.start()
    a, b = poller.watch(), poller.watch()
    a.add(["x", "y"])
    b.add(["x"])
    await clock.idle()
    assert (poller.refcount("x"), poller.refcount("y")) == (2, 1)
    a.close()
    a.close()  # idempotent
    assert (poller.refcount("x"), poller.refcount("y")) == (1, 0)
    await clock.advance(1.0)
    assert world.calls[-1][1] == ["x"]
    b.release(["x"])
    assert poller.watched == 0
    calls, rounds = len(world.calls), poller.rounds
    await clock.advance(10.0)
    assert poller.parked  # waiting for a watch, not for the clock
    assert len(world.calls) == calls and poller.rounds == rounds  # idle: no rounds without IDs
    b.add(["y"])  # waking up: the round starts at once
    await clock.idle()
    assert world.calls[-1][1] == ["y"] and not poller.parked
    await poller.aclose()


async def test_changes_only_and_final_videos_leave_the_round() -> None:
    clock = ManualClock()
    world = World(clock)
    world.set("x", progress=10)
    world.set("y", progress=50)
    poller = Poller(world.lookup, clock, interval=1.0)
    poller.start()
    watch = poller.watch()
    watch.seen("x", world.state["x"])  # the subscriber already sent this (its first event)
    watch.add(["x", "y"])
    await clock.idle()
    first = await watch.changes()
    assert list(first) == ["y"]  # x hadn't changed; y was news to this watcher
    world.set("x", progress=20)
    world.set("y", DONE, 100)
    await clock.advance(1.0)
    changed = await watch.changes()
    assert {k: progress_of(v) for k, v in changed.items()} == {
        "x": ("Processing", 20),
        "y": ("CompleteAllSucc", 100),
    }
    assert is_final(changed["y"]) and poller.due() == ["x"]
    await clock.advance(1.0)
    assert world.calls[-1][1] == ["x"]
    # a newcomer to a video already polled to its end hears about it at once, without a call
    late = poller.watch()
    calls = len(world.calls)
    late.add(["y"])
    assert progress_of((await late.changes())["y"]) == ("CompleteAllSucc", 100)
    assert len(world.calls) == calls
    await poller.aclose()


async def test_a_slow_subscriber_keeps_only_the_latest_per_video() -> None:
    clock = ManualClock()
    world = World(clock)
    world.set("x")
    poller = Poller(world.lookup, clock, interval=1.0)
    poller.start()
    slow, fast = poller.watch(), poller.watch()
    slow.add(["x"])
    fast.add(["x"])
    seen_fast = []
    for p in range(1, 6):
        world.set("x", progress=p * 10)
        await clock.advance(1.0)
        seen_fast.append(progress_of((await fast.changes())["x"])[1])
    assert seen_fast == [10, 20, 30, 40, 50]  # the slow one didn't hold anyone up
    taken = await slow.changes()
    assert list(taken) == ["x"] and progress_of(taken["x"])[1] == 50
    await poller.aclose()


async def test_failed_lookups_are_not_news_and_are_retried() -> None:
    clock = ManualClock()
    world = World(clock)
    world.set("x", progress=10)
    world.fail.add("x")
    poller = Poller(world.lookup, clock, interval=1.0)
    poller.start()
    watch = poller.watch()
    watch.add(["x", "gone"])
    await clock.idle()
    taken = await watch.changes()
    assert list(taken) == ["gone"] and isinstance(taken["gone"], VideoNotFound)
    assert poller.errors == 1 and poller.due() == ["x"]
    world.fail.clear()
    await clock.advance(1.0)
    assert progress_of((await watch.changes())["x"]) == ("Processing", 10)
    await poller.aclose()


def make_batcher(world: World, clock: ManualClock, pace: float = 0.07, cache: bool = False) -> Batcher:
    admission = Admission(SlidingWindowLimiter(15, clock, margin=0.05), clock)
    mem = MemoryCache(CacheTTLs(), clock) if cache else None
    return Batcher(world.fetch, admission, clock, pace=pace, cache=mem)


async def test_thousands_of_ids_stretch_the_round_at_the_call_pace() -> None:
    clock = ManualClock()
    world = World(clock)
    ids = [f"v{i:04d}" for i in range(1000)]
    for i in ids:
        world.set(i)
    batcher = make_batcher(world, clock)
    poller = Poller(batcher.poll_many, clock, interval=1.0)
    poller.start()
    poller.watch().add(ids)
    await clock.idle()
    await clock.until(lambda: poller.rounds == 2, 60.0, "two rounds")
    times = [t for t, _ in world.calls]
    assert [len(c) for _, c in world.calls[:100]] == [10] * 100
    assert sorted(world.called_ids()[:1000]) == ids
    first_round = times[99] - times[0]
    assert 99 * 0.07 - 1e-6 <= first_round < 100 * 0.07  # calls evenly spaced at the pace, no burst
    assert times[100] - times[99] >= 1.0  # the next round starts interval after the last answer
    assert max(sum(1 for t in times if s <= t < s + 1.0) for s in times) <= 15  # within the budget
    await poller.aclose()
    await batcher.aclose()


async def test_queries_go_ahead_of_queued_poll_ids() -> None:
    clock = ManualClock()
    world = World(clock)
    polled = [f"p{i:03d}" for i in range(200)]
    for i in [*polled, "q1", "q2", "q3"]:
        world.set(i)
    batcher = make_batcher(world, clock)
    poller = Poller(batcher.poll_many, clock, interval=1.0)
    poller.start()
    poller.watch().add(polled)
    await clock.idle()
    for _ in range(3):
        await clock.advance(0.07)
    assert len(world.calls) == 4 and batcher.background == 160
    assert batcher.pending == 0  # poll IDs aren't counted as pending queries
    query = asyncio.create_task(batcher.load_many(["q1", "q2", "q3"]))
    await clock.idle()
    await clock.advance(0.07)
    # the very next call carries the query first, and fills its room with poll IDs
    assert world.calls[4][1] == ["q1", "q2", "q3", *polled[40:47]]
    assert [r.video_id for r in await query] == ["q1", "q2", "q3"]  # type: ignore[union-attr]
    await clock.until(lambda: poller.rounds == 1, 60.0, "the first round")
    assert len(world.calls) == 21 and sorted(world.called_ids()) == sorted([*polled, "q1", "q2", "q3"])
    await poller.aclose()
    await batcher.aclose()


async def test_a_query_promotes_an_id_waiting_in_the_poll_lane() -> None:
    clock = ManualClock()
    world = World(clock)
    for i in range(30):
        world.set(f"p{i:02d}")
    batcher = make_batcher(world, clock)
    polls = asyncio.create_task(batcher.poll_many([f"p{i:02d}" for i in range(30)]))
    await clock.idle()
    assert len(world.calls) == 1 and batcher.background == 20
    query = asyncio.create_task(batcher.load_many(["p25"]))
    await clock.idle()
    assert batcher.pending == 1 and batcher.background == 19
    await clock.advance(0.07)
    assert world.calls[1][1][0] == "p25"  # promoted: first in the next call, asked once for both
    await clock.advance(0.07)
    await asyncio.gather(polls, query)
    assert sorted(world.called_ids()) == sorted(f"p{i:02d}" for i in range(30))


async def test_polls_skip_cache_reads_but_fill_the_cache_for_queries() -> None:
    clock = ManualClock()
    world = World(clock)
    world.set("x", progress=10)
    batcher = make_batcher(world, clock, pace=0.0, cache=True)
    await batcher.load_many(["x"])
    world.set("x", progress=60)
    polled = await batcher.poll_many(["x"])
    assert progress_of(polled[0])[1] == 60 and len(world.calls) == 2  # not its own cached answer
    queried = await batcher.load_many(["x"])
    assert progress_of(queried[0])[1] == 60 and len(world.calls) == 2  # served by the poll's answer


async def test_one_broken_watcher_does_not_stop_the_news_or_the_poller() -> None:
    clock = ManualClock()
    world = World(clock)
    world.set("x", progress=10)
    poller = Poller(world.lookup, clock, interval=1.0)
    poller.start()

    def broken(outcome: Outcome) -> object:
        raise RuntimeError("a view with a bug")

    bad, good = poller.watch(broken), poller.watch()
    for watch in (bad, good):
        watch.add(["x"])
    await clock.idle()
    assert progress_of((await good.changes())["x"]) == ("Processing", 10)
    world.set("x", progress=20)
    await clock.advance(1.0)
    assert progress_of((await good.changes())["x"]) == ("Processing", 20)  # the loop goes on
    assert poller.rounds == 2
    await poller.aclose()


async def test_a_round_that_fails_is_followed_by_the_next() -> None:
    clock = ManualClock()
    world = World(clock)
    world.set("x", progress=10)
    rounds = 0

    def on_round(ids: int, seconds: float) -> None:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            raise RuntimeError("a metrics bug")

    poller = Poller(world.lookup, clock, interval=1.0, on_round=on_round)
    poller.start()
    poller.watch().add(["x"])
    await clock.idle()
    await clock.advance(1.0)
    assert rounds == 2 and len(world.calls) == 2
    await poller.aclose()


async def test_queries_saturating_the_account_cannot_starve_the_poll_lane_for_good() -> None:
    clock = ManualClock()
    world = World(clock)
    for i in range(10):
        world.set(f"p{i}")
    batcher = make_batcher(world, clock)
    polled = asyncio.create_task(batcher.poll_many([f"p{i}" for i in range(10)]))
    flood = []
    for second in range(8):  # more query IDs every second than the account can answer
        flood += [asyncio.create_task(batcher.load_many([f"q{second}-{i}"])) for i in range(200)]
        for _ in range(10):
            await clock.advance(0.1)
        if polled.done():
            break
    assert polled.done(), "the poll IDs waited behind queries for good"
    first_poll_call = next(n for n, (_, ids) in enumerate(world.calls) if "p0" in ids)
    assert 5.0 <= world.calls[first_poll_call][0] - 1000.0 < 6.5  # after waiting 5 s, not before
    for task in flood:
        task.cancel()
    await batcher.aclose(grace=0)
