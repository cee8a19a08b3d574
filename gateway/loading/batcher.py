"""The gateway-wide scheduler beneath the per-request DataLoaders.

IDs wanted by every in-flight request wait in one fair queue (``fair.py``): each operation is a
flow, each API key a tenant, and every call takes its IDs from them in turn. Each time the limiter
grants a call (for a part-filled call, at most once per average call interval), the pump takes up
to 10 waiting IDs and sends them together. An ID already waiting or in flight is never asked twice
(single flight): all its waiters share one future. When the gateway is idle, the first lookup goes
out on the next event-loop turn; at saturation, calls fill to 10.

A flow whose IDs can't be served within ``max_wait`` at its fair share of the account is answered
:class:`~gateway.loading.errors.FairShareExceeded` at once, with the expected wait, instead of
waiting out its deadline.

Background lookups (the subscription poller's, :meth:`Batcher.poll_many`) are a flow of their own
at low priority: a call takes them after the query flows, so they fill the room a call has left and
otherwise use the slots queries don't (once the oldest has waited 5 s, the next call takes them
first: queries can't starve subscribers for good). They skip cache reads (a poll must see the
upstream, not its own last answer) but their answers are cached for queries.

Futures resolve to an outcome (a record or one of ``loading.errors.FAILURES``), never to an
exception, so a cancelled or vanished waiter can't poison the others or leave an unretrieved
exception behind.

With ``coalesce=False`` (``GATEWAY_COALESCE=false``, the per-request baseline) each ``load_many``
sends its own calls of up to 10, sharing nothing with other requests. Each call is a span (``call.py``).
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable, Mapping, Sequence

from opentelemetry.trace import NoOpTracer, Tracer

from gateway.clock import Clock
from gateway.loading.cache import Outcome, SummaryCache, Usable, read_cached
from gateway.loading.call import Fetch, outcomes_from_page, send
from gateway.loading.errors import FairShareExceeded, ShuttingDown
from gateway.loading.fair import OPEN_TENANT, Budget, Entry, FairQueue, Flow, Served
from gateway.loading.limiter import Admission, Grant, RateLimitExceeded
from gateway.vod.client import MAX_IDS_PER_CALL

__all__ = ["Batcher", "Fetch", "FlowSource", "outcomes_from_page"]


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
        budgets: Mapping[str, Budget] | None = None,
        ids_per_second: float | None = None,
        on_served: Served | None = None,
        on_queued: Callable[[str, int, int], None] | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        """``ids_per_second``: what the account serves at saturation, for the early refusal
        (None: ``batch_size / pace``; no early refusal without a pace). ``on_queued``: (tenant,
        IDs queued, IDs refused at once) per lookup."""
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
        self._queue = FairQueue(max_wait, batch_size, starve_after, budgets, on_served)
        if ids_per_second is None and pace > 0:
            ids_per_second = batch_size / pace
        self._ids_per_second = ids_per_second
        self._on_queued = on_queued
        self._arrived = asyncio.Event()  # set when IDs join: a pump waiting on caps looks again
        self._inflight: dict[str, Entry] = {}
        self._pump_task: asyncio.Task[None] | None = None
        self._filled = asyncio.Event()  # set when a full call's worth of IDs is waiting
        self._tasks: set[asyncio.Task[None]] = set()
        self._tracer = tracer or NoOpTracer()

    @property
    def pending(self) -> int:
        """Query IDs waiting for a call."""
        return self._queue.queries

    @property
    def background(self) -> int:
        """IDs waiting in the poller's flow."""
        return self._queue.background

    @property
    def queue(self) -> FairQueue:
        return self._queue

    def flow(self, tenant: str = OPEN_TENANT) -> FlowSource:
        """A source for one operation: its lookups are one flow of ``tenant``'s."""
        return FlowSource(self, Flow(tenant))

    async def load_many(
        self, ids: Sequence[str], usable: Usable | None = None, flow: Flow | None = None
    ) -> list[Outcome]:
        """One outcome per ID, in order; duplicates share one lookup. ``usable``, if given, says
        which cached outcomes may be answered as they are; the others are looked up anew.
        ``flow``: whose lookup this is (None: a flow of its own, of the open tenant)."""
        cached = await read_cached(self._cache, ids, usable, self._on_cache)
        if len(cached) == len(set(ids)):
            return [cached[i] for i in ids]
        wanted = [i for i in ids if i not in cached]
        if self._coalesce:
            outcomes = await self._join(wanted, Flow() if flow is None else flow)
        else:
            outcomes = await self._alone(wanted)
        return [cached[i] if i in cached else outcomes[i] for i in ids]

    async def poll_many(self, ids: Sequence[str]) -> list[Outcome]:
        """Like :meth:`load_many`, in the poller's flow and always from the upstream (for pollers)."""
        outcomes = await self._join(ids, None) if self._coalesce else await self._alone(ids)
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

    async def _join(self, ids: Sequence[str], flow: Flow | None) -> dict[str, Outcome]:
        """Wait for ``ids`` in ``flow`` (None: the poller's)."""
        entries: dict[str, Entry] = {}
        refused: dict[str, Outcome] = {}
        now = self._clock.now()
        wanted = list(dict.fromkeys(ids))
        if flow is not None:
            new = [i for i in wanted if i not in self._inflight and not self._queue.queued(i)]
            if new and self._ids_per_second is not None:
                wait = self._queue.expected_wait(flow, len(new), self._ids_per_second)
                if wait > self._max_wait:  # told at once, not after waiting out the deadline
                    refused = dict.fromkeys(new, FairShareExceeded(wait))
            if self._on_queued is not None:
                self._on_queued(flow.tenant, len(new) - len(refused), len(refused))
        trace = None if flow is None else flow.trace
        for video_id in wanted:
            if video_id not in refused:
                entry = self._inflight.get(video_id) or self._queue.join(video_id, flow, now)
                entry.waiters += 1
                if trace is not None and trace not in entry.traces:
                    entry.traces.append(trace)
                entries[video_id] = entry
        if self._queue.full():
            self._filled.set()  # a call held by the pacer may go now
        self._arrived.set()
        self._ensure_pump()
        try:
            if entries:
                await asyncio.wait([e.future for e in entries.values()])
        finally:
            for video_id, entry in entries.items():
                entry.waiters -= 1
                self._queue.leave(flow, video_id, entry)
            if flow is not None and trace is not None:
                flow.served(entries.values())
        return {**refused, **{i: e.future.result() for i, e in entries.items()}}

    def _ensure_pump(self) -> None:
        if self._queue and (self._pump_task is None or self._pump_task.done()):
            # a fresh context: the pump serves every request, not the one that happened to wake it
            self._pump_task = asyncio.get_running_loop().create_task(
                self._pump(), context=contextvars.Context()
            )

    async def _pump(self) -> None:
        lanes = self._queue
        while lanes:
            queued_at = time.time_ns()  # the call's span starts here: its wait for the limiter shows
            await self._paced()
            if not await self._capped_wait():
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
                task = asyncio.get_running_loop().create_task(self._run(batch, grant, queued_at))
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
        if wait <= 0 or self._queue.full():
            return
        self._filled.clear()
        sleep = asyncio.ensure_future(self._clock.sleep(wait))
        filled = asyncio.ensure_future(self._filled.wait())
        try:
            await asyncio.wait({sleep, filled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleep.cancel()
            filled.cancel()

    async def _capped_wait(self) -> bool:
        """While every tenant waiting is over its cap (and no poll ID waits), wait for a token or
        a new arrival; return whether anything is left to send."""
        while self._queue:
            now = self._clock.now()
            ready = self._queue.ready_at(now)
            if ready <= now:
                return True
            self._arrived.clear()
            sleep = asyncio.ensure_future(self._clock.sleep(ready - now))
            arrived = asyncio.ensure_future(self._arrived.wait())
            try:
                await asyncio.wait({sleep, arrived}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleep.cancel()
                arrived.cancel()
        return False

    async def _run(self, batch: dict[str, Entry], grant: Grant, queued_at: int | None = None) -> None:
        await send(
            self._fetch, self._admission, self._cache, batch, grant, self._inflight, self._tracer, queued_at
        )

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
        self._queue.close(closing)
        for entry in self._inflight.values():
            entry.resolve(closing)
        self._inflight.clear()


class FlowSource:
    """The batcher as one flow sees it: what an operation's DataLoader loads through."""

    __slots__ = ("_batcher", "flow")

    def __init__(self, batcher: Batcher, flow: Flow) -> None:
        self._batcher = batcher
        self.flow = flow

    async def load_many(self, ids: Sequence[str], usable: Usable | None = None) -> list[Outcome]:
        return await self._batcher.load_many(ids, usable, self.flow)
