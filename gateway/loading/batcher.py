"""The gateway-wide scheduler beneath the per-request DataLoaders.

IDs wanted by every in-flight request join one queue, oldest first. Each time the limiter grants a
call (for a part-filled call, at most once per average call interval), the pump takes up to 10
pending IDs and sends them together. An ID already pending or in
flight is never asked twice (single flight): all its waiters share one future. When the gateway is
idle, the first lookup goes out on the next event-loop turn; at saturation, calls fill to 10.

Background lookups (the subscription poller's, :meth:`Batcher.poll_many`) wait in a second,
low-priority lane: a call takes them only after every pending query ID, so they fill the room a
call has left and otherwise use the slots queries don't (once the oldest has waited 5 s, the next
call takes them first: queries can't starve subscribers for good). They skip cache reads (a poll
must see the upstream, not its own last answer) but their answers are cached for queries.

Futures resolve to an outcome (a record or a :class:`VodError`), never to an exception, so a
cancelled or vanished waiter can't poison the others or leave an unretrieved exception behind.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

from gateway.clock import Clock
from gateway.loading.cache import Outcome, SummaryCache, Usable, read_cached
from gateway.loading.limiter import Admission, Grant, RateLimitExceeded
from gateway.vod.client import MAX_IDS_PER_CALL, Admit
from gateway.vod.errors import UpstreamError, UpstreamUnavailable, VideoNotFound, VodError
from gateway.vod.models import SummaryPage

log = logging.getLogger("gateway.batcher")

Fetch = Callable[[list[str], float, Admit], Awaitable[SummaryPage]]
"""(ids, deadline, admit for retries) -> page; the first attempt's grant is already taken."""


class _Entry:
    __slots__ = ("deadline", "future", "since", "waiters")

    def __init__(self, future: asyncio.Future[Outcome], deadline: float, since: float) -> None:
        self.future = future
        self.deadline = deadline
        self.since = since  # when it joined the queue
        self.waiters = 0


def outcomes_from_page(ids: Sequence[str], page: SummaryPage) -> dict[str, Outcome]:
    """Found → record; listed in NonExistVideoIds or absent from the answer → VideoNotFound."""
    found = page.summaries
    return {i: found[i] if i in found else VideoNotFound(i) for i in ids}


class Batcher:
    def __init__(
        self,
        fetch: Fetch,
        admission: Admission,
        clock: Clock,
        *,
        cache: SummaryCache | None = None,
        max_wait: float = 10.0,
        on_cache: Callable[[int, int], None] | None = None,
        batch_size: int = MAX_IDS_PER_CALL,
        pace: float = 0.0,
        starve_after: float = 5.0,
    ) -> None:
        self._fetch = fetch
        self._admission = admission
        self._clock = clock
        self._cache = cache
        self._max_wait = max_wait
        self._on_cache = on_cache
        self._batch_size = batch_size
        self._pace = pace
        self._starve_after = starve_after
        self._next_slot = float("-inf")  # when the next call may go
        self._pending: OrderedDict[str, _Entry] = OrderedDict()
        self._background: OrderedDict[str, _Entry] = OrderedDict()  # low priority: the poller's
        self._inflight: dict[str, _Entry] = {}
        self._pump_task: asyncio.Task[None] | None = None
        self._filled = asyncio.Event()  # set when a full call's worth of IDs is waiting
        self._tasks: set[asyncio.Task[None]] = set()
        self.calls = 0
        self.ids_sent = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    @property
    def background(self) -> int:
        """IDs waiting in the low-priority lane."""
        return len(self._background)

    async def load_many(self, ids: Sequence[str], usable: Usable | None = None) -> list[Outcome]:
        """One outcome per ID, in order; duplicates share one lookup. ``usable``, if given, says
        which cached outcomes may be answered as they are; the others are looked up anew."""
        cached = await read_cached(self._cache, ids, usable, self._on_cache)
        if len(cached) == len(set(ids)):
            return [cached[i] for i in ids]
        wanted = [i for i in ids if i not in cached]
        outcomes = await self._join(wanted, background=False)
        return [cached[i] if i in cached else outcomes[i] for i in ids]

    async def poll_many(self, ids: Sequence[str]) -> list[Outcome]:
        """Like :meth:`load_many`, at low priority and always from the upstream (for pollers)."""
        outcomes = await self._join(ids, background=True)
        return [outcomes[i] for i in ids]

    async def _join(self, ids: Sequence[str], background: bool) -> dict[str, Outcome]:
        entries: dict[str, _Entry] = {}
        for video_id in ids:
            if video_id in entries:
                continue
            entry = self._inflight.get(video_id) or self._pending.get(video_id)
            if entry is None and video_id in self._background:
                entry = self._background[video_id]
                if not background:  # a query wants it: promote it to the query lane
                    del self._background[video_id]
                    entry.deadline = self._clock.now() + self._max_wait
                    self._pending[video_id] = entry
            if entry is None:
                future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
                now = self._clock.now()
                if background:  # its deadline starts when a call takes it
                    entry = self._background[video_id] = _Entry(future, float("inf"), now)
                else:
                    entry = self._pending[video_id] = _Entry(future, now + self._max_wait, now)
            entry.waiters += 1
            entries[video_id] = entry
        if self._full():
            self._filled.set()  # a call held by the pacer may go now
        self._ensure_pump()
        try:
            if entries:
                await asyncio.wait([e.future for e in entries.values()])
        finally:
            for entry in entries.values():
                entry.waiters -= 1
        return {i: e.future.result() for i, e in entries.items()}

    def _ensure_pump(self) -> None:
        if (self._pending or self._background) and (self._pump_task is None or self._pump_task.done()):
            # a fresh context: the pump serves every request, not the one that happened to wake it
            self._pump_task = asyncio.get_running_loop().create_task(
                self._pump(), context=contextvars.Context()
            )

    async def _pump(self) -> None:
        while self._drop_abandoned():
            await self._paced()
            if not self._drop_abandoned():
                break
            queries = bool(self._pending)
            if queries:
                deadline = next(iter(self._pending.values())).deadline
            else:
                deadline = self._clock.now() + self._max_wait
            try:
                grant = await self._admission.acquire(deadline)
            except RateLimitExceeded as exc:
                if queries:
                    self._expire(exc.next_grant_at, exc)
                else:  # the poller tries again next round
                    self._fail_background(exc)
                continue
            batch = self._take()
            # slots follow each other at ``pace``, so a late wake-up doesn't slow the rate down;
            # after a pause longer than one slot, or a full call that went early, the schedule
            # restarts from now
            now = self._clock.now()
            start = self._next_slot if 0 <= now - self._next_slot < self._pace else now
            self._next_slot = start + self._pace
            if batch:
                task = asyncio.get_running_loop().create_task(self._run(batch, grant))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:  # everyone waiting left meanwhile: no call goes
                await grant.release()

    async def _paced(self) -> None:
        """Hold a part-filled call until ``pace`` after the last one: the account's average call
        interval.

        A burst would spend the second's budget on calls of one or two IDs (and a sliding window
        would then repeat that burst every second); while a call waits its turn, IDs keep joining
        it, so calls fill to 10 under load. A full call of queries is never held: it goes as soon
        as the limiter lets it (spacing full calls evenly would only make each wait for the
        slowest answer before it). A lookup arriving when no call went out within ``pace`` (an idle
        gateway) is sent at once.
        """
        wait = self._next_slot - self._clock.now()
        if wait <= 0 or self._full():
            return
        self._filled.clear()
        sleep = asyncio.ensure_future(self._clock.sleep(wait))
        filled = asyncio.ensure_future(self._filled.wait())
        try:
            await asyncio.wait({sleep, filled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleep.cancel()
            filled.cancel()

    def _full(self) -> bool:
        """A full call of query IDs is waiting. (Poll IDs stay paced: at most one poll-only call
        per interval, so a query arriving meanwhile finds the next slot free.)"""
        return len(self._pending) >= self._batch_size

    def _drop_abandoned(self) -> bool:
        """Forget pending IDs nobody waits for any more; return whether any are left."""
        for lane in (self._pending, self._background):
            while lane:
                video_id, entry = next(iter(lane.items()))
                if entry.waiters > 0:
                    break
                del lane[video_id]
                entry.future.cancel()
        return bool(self._pending or self._background)

    def _expire(self, before: float, error: RateLimitExceeded) -> None:
        for video_id in [i for i, e in self._pending.items() if e.deadline < before]:
            entry = self._pending.pop(video_id)
            if not entry.future.done():
                entry.future.set_result(error)

    def _fail_background(self, error: RateLimitExceeded) -> None:
        lane, self._background = self._background, OrderedDict()
        for entry in lane.values():
            if not entry.future.done():
                entry.future.set_result(error)

    def _take(self) -> dict[str, _Entry]:
        """Up to ``batch_size`` IDs: every pending query ID first, then background ones; but
        background IDs first when the oldest has waited ``starve_after`` seconds, so that a
        gateway saturated by queries still answers its subscribers now and then."""
        batch: dict[str, _Entry] = {}
        lanes = (self._pending, self._background)
        if self._background:
            oldest = next(iter(self._background.values()))
            if self._clock.now() - oldest.since >= self._starve_after:
                lanes = (self._background, self._pending)
        for lane in lanes:
            while lane and len(batch) < self._batch_size:
                video_id, entry = lane.popitem(last=False)
                if entry.waiters > 0:
                    if lane is self._background:
                        entry.deadline = self._clock.now() + self._max_wait
                    batch[video_id] = entry
                    self._inflight[video_id] = entry
                else:
                    entry.future.cancel()
        return batch

    async def _run(self, batch: dict[str, _Entry], grant: Grant) -> None:
        ids = list(batch)
        deadline = min(e.deadline for e in batch.values())
        first: Grant | None = grant

        async def admit(retry_deadline: float) -> Grant:
            """The first attempt goes on the pump's grant; retries queue for their own."""
            nonlocal first
            if first is not None:
                taken, first = first, None
                return taken
            return await self._admission.acquire(retry_deadline)

        self.calls += 1
        self.ids_sent += len(ids)
        outcomes: dict[str, Outcome]
        try:
            page = await self._fetch(ids, deadline, admit)
            outcomes = outcomes_from_page(ids, page)
            if self._cache is not None:
                await self._cache.put_many(outcomes)
        except VodError as exc:
            outcomes = dict.fromkeys(ids, exc)
        except Exception as exc:  # a bug or an unexpected library error: fail only this batch
            log.error("lookup batch failed unexpectedly: %s: %s", type(exc).__name__, exc)
            outcomes = dict.fromkeys(ids, UpstreamError("the lookup failed unexpectedly"))
        except asyncio.CancelledError:
            outcomes = dict.fromkeys(ids, UpstreamUnavailable("the gateway is shutting down"))
            raise
        finally:
            for video_id, entry in batch.items():
                self._inflight.pop(video_id, None)
                if not entry.future.done():
                    entry.future.set_result(outcomes[video_id])
            if first is not None:  # the fetch never used the pump's grant
                await first.release()

    async def aclose(self, grace: float = 5.0) -> None:
        """Stop taking calls; let those out finish for up to ``grace`` seconds (so their grants
        are released and their waiters answered), then cancel the rest."""
        if self._pump_task is not None and not self._pump_task.done():
            self._pump_task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        closing = UpstreamUnavailable("the gateway is shutting down")
        for lane in (self._pending, self._background, self._inflight):
            for entry in lane.values():
                if not entry.future.done():
                    entry.future.set_result(closing)
            lane.clear()
