"""The gateway-wide scheduler beneath the per-request DataLoaders.

IDs wanted by every in-flight request join one queue, oldest first. Each time the limiter grants a
call (for a part-filled call, at most once per average call interval), the pump takes up to 10
pending IDs and sends them together. An ID already pending or in
flight is never asked twice (single flight): all its waiters share one future. When the gateway is
idle, the first lookup goes out on the next event-loop turn; at saturation, calls fill to 10.

Background lookups (the subscription poller's, :meth:`Batcher.poll_many`) wait in a second (``lanes.py``),
low-priority lane: a call takes them only after every pending query ID, so they fill the room a
call has left and otherwise use the slots queries don't (once the oldest has waited 5 s, the next
call takes them first: queries can't starve subscribers for good). They skip cache reads (a poll
must see the upstream, not its own last answer) but their answers are cached for queries.

Futures resolve to an outcome (a record or one of ``loading.errors.FAILURES``), never to an
exception, so a cancelled or vanished waiter can't poison the others or leave an unretrieved
exception behind.

With ``coalesce=False`` (``GATEWAY_COALESCE=false``, the benchmark's per-request baseline) each
``load_many`` call sends its own calls of up to 10 through the same limiter, cache and error
handling, sharing nothing with other requests.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Sequence

from gateway.clock import Clock
from gateway.loading.cache import Outcome, SummaryCache, Usable, read_cached
from gateway.loading.errors import InternalFailure, ShuttingDown
from gateway.loading.lanes import Entry, Lanes
from gateway.loading.limiter import Admission, Grant, RateLimitExceeded
from gateway.vod.client import MAX_IDS_PER_CALL, Admit
from gateway.vod.errors import VideoNotFound, VodError
from gateway.vod.models import SummaryPage

log = logging.getLogger("gateway.batcher")

Fetch = Callable[[list[str], float, Admit], Awaitable[SummaryPage]]
"""(ids, deadline, admit for retries) -> page; the first attempt's grant is already taken."""


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
        coalesce: bool = True,
    ) -> None:
        self._fetch = fetch
        self._admission = admission
        self._clock = clock
        self._cache = cache
        self._max_wait = max_wait
        self._on_cache = on_cache
        self._batch_size = batch_size
        self._pace = pace
        self._coalesce = coalesce
        self._next_slot = float("-inf")  # when the next call may go
        self._lanes = Lanes(max_wait, batch_size, starve_after)
        self._inflight: dict[str, Entry] = {}
        self._pump_task: asyncio.Task[None] | None = None
        self._filled = asyncio.Event()  # set when a full call's worth of IDs is waiting
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """Query IDs waiting for a call."""
        return self._lanes.queries

    @property
    def background(self) -> int:
        """IDs waiting in the low-priority lane."""
        return self._lanes.background

    async def load_many(self, ids: Sequence[str], usable: Usable | None = None) -> list[Outcome]:
        """One outcome per ID, in order; duplicates share one lookup. ``usable``, if given, says
        which cached outcomes may be answered as they are; the others are looked up anew."""
        cached = await read_cached(self._cache, ids, usable, self._on_cache)
        if len(cached) == len(set(ids)):
            return [cached[i] for i in ids]
        wanted = [i for i in ids if i not in cached]
        outcomes = await self._join(wanted, background=False) if self._coalesce else await self._alone(wanted)
        return [cached[i] if i in cached else outcomes[i] for i in ids]

    async def poll_many(self, ids: Sequence[str]) -> list[Outcome]:
        """Like :meth:`load_many`, at low priority and always from the upstream (for pollers)."""
        outcomes = await self._join(ids, background=True) if self._coalesce else await self._alone(ids)
        return [outcomes[i] for i in ids]

    async def _alone(self, ids: Sequence[str]) -> dict[str, Outcome]:
        """Without coalescing: this caller's own calls of up to ``batch_size``, shared with nobody."""
        wanted = list(dict.fromkeys(ids))
        size = self._batch_size
        chunks = [wanted[i : i + size] for i in range(0, len(wanted), size)]
        results = await asyncio.gather(*(self._call_alone(c) for c in chunks))
        return {i: o for result in results for i, o in result.items()}

    async def _call_alone(self, ids: list[str]) -> dict[str, Outcome]:
        now = self._clock.now()
        loop = asyncio.get_running_loop()
        batch = {i: Entry(loop.create_future(), now + self._max_wait, now) for i in ids}
        try:
            grant = await self._admission.acquire(now + self._max_wait)
        except RateLimitExceeded as exc:
            return dict.fromkeys(ids, exc)
        await self._run(batch, grant)
        return {i: e.future.result() for i, e in batch.items()}

    async def _join(self, ids: Sequence[str], background: bool) -> dict[str, Outcome]:
        entries: dict[str, Entry] = {}
        now = self._clock.now()
        for video_id in ids:
            if video_id in entries:
                continue
            entry = self._inflight.get(video_id) or self._lanes.join(video_id, background, now)
            entry.waiters += 1
            entries[video_id] = entry
        if self._lanes.full():
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
        if self._lanes and (self._pump_task is None or self._pump_task.done()):
            # a fresh context: the pump serves every request, not the one that happened to wake it
            self._pump_task = asyncio.get_running_loop().create_task(
                self._pump(), context=contextvars.Context()
            )

    async def _pump(self) -> None:
        lanes = self._lanes
        while lanes.drop_abandoned():
            await self._paced()
            if not lanes.drop_abandoned():
                break
            query_deadline = lanes.oldest_query_deadline()
            deadline = self._clock.now() + self._max_wait if query_deadline is None else query_deadline
            try:
                grant = await self._admission.acquire(deadline)
            except RateLimitExceeded as exc:
                if query_deadline is not None:
                    lanes.expire(exc.next_grant_at, exc)
                else:  # the poller tries again next round
                    lanes.fail_background(exc)
                continue
            batch = lanes.take(self._clock.now())
            self._inflight.update(batch)
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
        if wait <= 0 or self._lanes.full():
            return
        self._filled.clear()
        sleep = asyncio.ensure_future(self._clock.sleep(wait))
        filled = asyncio.ensure_future(self._filled.wait())
        try:
            await asyncio.wait({sleep, filled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleep.cancel()
            filled.cancel()

    async def _run(self, batch: dict[str, Entry], grant: Grant) -> None:
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
            outcomes = dict.fromkeys(ids, InternalFailure())
        except asyncio.CancelledError:
            outcomes = dict.fromkeys(ids, ShuttingDown())
            raise
        finally:
            for video_id, entry in batch.items():
                self._inflight.pop(video_id, None)
                entry.resolve(outcomes[video_id])
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
        closing = ShuttingDown()
        self._lanes.close(closing)
        for entry in self._inflight.values():
            entry.resolve(closing)
        self._inflight.clear()
