"""One poller for every subscription: the transcoding summaries that subscribers wait on.

Subscribers :meth:`~Poller.watch` the IDs they still wait for; IDs are reference-counted, so a
video watched by 200 subscribers is polled once per round. A round looks up every watched,
unfinished ID through one lookup function (the Batcher's low-priority lane: the same limiter as
queries, calls of 10, queries first), hands each answer to that video's watchers, and the next
round starts ``interval`` seconds after this one finished: with thousands of IDs rounds stretch
instead of crowding out queries. With nothing to poll, the poller sleeps until something is watched.

Each watcher has a mailbox holding only the latest answer per video, so a slow subscriber never
blocks the poller or the others, and its memory stays bounded by the IDs it watches. A watcher is
only told about an answer that differs, in its view (the fields its operation selects), from the
last one it took.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

from gateway.clock import Clock
from gateway.loading.cache import Outcome
from gateway.loading.tasks import stopped
from gateway.vod.client import MAX_IDS_PER_CALL
from gateway.vod.errors import VideoNotFound
from gateway.vod.models import TranscodeSummaryRecord

log = logging.getLogger("gateway.poller")

Lookup = Callable[[Sequence[str]], Awaitable[list[Outcome]]]
"""ids -> one outcome per ID, in order (Batcher.poll_many)."""


def is_final(outcome: Outcome) -> bool:
    """Nothing more will change: a finished task (an UNKNOWN status is polled on), or a video
    that doesn't exist."""
    if isinstance(outcome, TranscodeSummaryRecord):
        return outcome.status.terminal
    return isinstance(outcome, VideoNotFound)


View = Callable[[Outcome], object]
"""What a subscriber sees of an outcome: two outcomes with equal views are not news to it."""


def whole(outcome: Outcome) -> object:
    """The default view: every field of a record; a not-found answer by its video."""
    if isinstance(outcome, VideoNotFound):
        return ("not found", outcome.video_id)
    return outcome


class Watch:
    """One subscriber's view of the poller: the IDs it watches and a mailbox of their changes."""

    def __init__(self, poller: Poller, view: View = whole) -> None:
        self._poller = poller
        self.view = view
        self._ids: dict[str, None] = {}  # an ordered set: a small dict takes half a small set's memory
        self._seen: dict[str, object] = {}  # the view of what the subscriber has, per video
        self._mailbox: dict[str, tuple[Outcome, object]] = {}  # the latest news, with its view
        self._waiter: asyncio.Future[None] | None = None  # while the subscriber waits for news
        self._closed = False

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self._ids)

    def seen(self, video_id: str, outcome: Outcome) -> None:
        """Record what the subscriber already has, so the same answer isn't sent again."""
        self._seen[video_id] = self.view(outcome)

    def add(self, ids: Iterable[str]) -> None:
        if self._closed:
            raise RuntimeError("this watch is closed")
        new = [i for i in dict.fromkeys(ids) if i not in self._ids]
        self._ids.update(dict.fromkeys(new))
        self._poller._add(self, new)

    def release(self, ids: Iterable[str]) -> None:
        gone = [i for i in dict.fromkeys(ids) if i in self._ids]
        for video_id in gone:
            del self._ids[video_id]
        for video_id in gone:
            self._seen.pop(video_id, None)
            self._mailbox.pop(video_id, None)
        self._poller._release(self, gone)

    def close(self) -> None:
        """Release every ID (idempotent): call it from the subscriber's ``finally``."""
        if not self._closed:
            self.release(list(self._ids))
            self._closed = True
            self._poller.watches -= 1

    def offer(self, video_id: str, outcome: Outcome, seen_as: object = None) -> None:
        """The poller's answer for ``video_id``: kept (replacing an older one) if it's news.
        ``seen_as`` is ``self.view(outcome)`` when the caller has it already."""
        if video_id not in self._ids:
            return
        key = self.view(outcome) if seen_as is None else seen_as
        if video_id in self._seen and self._seen[video_id] == key:
            self._mailbox.pop(video_id, None)  # it changed and changed back before we looked
            return
        self._mailbox[video_id] = (outcome, key)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def changes(self) -> dict[str, Outcome]:
        """Wait for at least one change; take every change waiting (the latest per video)."""
        while not self._mailbox:  # a bare future, not an Event: one less deque per subscription
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        taken, self._mailbox = self._mailbox, {}
        for video_id, (_, key) in taken.items():
            self._seen[video_id] = key
        return {video_id: outcome for video_id, (outcome, _) in taken.items()}


class PushWatch(Watch):
    """A watch without a mailbox: each answer that is news to it goes to ``on_news`` at once, from
    the poller's delivery (a published subscription's: nothing waits, no task per subscriber)."""

    def __init__(self, poller: Poller, view: View, on_news: Callable[[str, Outcome], None]) -> None:
        super().__init__(poller, view)
        self._on_news = on_news

    def offer(self, video_id: str, outcome: Outcome, seen_as: object = None) -> None:
        if video_id not in self._ids:
            return
        key = self.view(outcome) if seen_as is None else seen_as
        if video_id in self._seen and self._seen[video_id] == key:
            return
        self._seen[video_id] = key
        self._on_news(video_id, outcome)

    async def changes(self) -> dict[str, Outcome]:
        raise TypeError("a PushWatch hands its news to on_news")


class Poller:
    def __init__(
        self,
        lookup: Lookup,
        clock: Clock,
        interval: float,
        *,
        chunk: int = MAX_IDS_PER_CALL,
        on_round: Callable[[int, float], None] | None = None,
    ) -> None:
        self._lookup = lookup
        self.clock = clock
        self._interval = interval
        self._chunk = chunk
        self._on_round = on_round  # (IDs polled, seconds the round took)
        self._refs: dict[str, int] = {}
        self._watchers: dict[str, set[Watch]] = {}
        self._final: dict[str, Outcome] = {}  # watched IDs that won't change any more
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.watches = 0  # open Watch objects: one per live subscription
        self.rounds = 0
        self.errors = 0
        self.parked = False  # waiting for a watch, not for the clock: no round can start

    # ---- what subscribers see ----------------------------------------------------------------

    def watch(self, view: View = whole) -> Watch:
        self.watches += 1
        return Watch(self, view)

    def push_watch(self, view: View, on_news: Callable[[str, Outcome], None]) -> PushWatch:
        self.watches += 1
        return PushWatch(self, view, on_news)

    def refcount(self, video_id: str) -> int:
        return self._refs.get(video_id, 0)

    @property
    def watched(self) -> int:
        """Distinct IDs watched by anyone."""
        return len(self._refs)

    def due(self) -> list[str]:
        """The IDs the next round will poll: watched and not final."""
        return [i for i in self._refs if i not in self._final]

    def _add(self, watch: Watch, ids: Sequence[str]) -> None:
        for video_id in ids:
            self._refs[video_id] = self._refs.get(video_id, 0) + 1
            self._watchers.setdefault(video_id, set()).add(watch)
            final = self._final.get(video_id)
            if final is not None:  # polled to its end already: not polled again, so tell now
                watch.offer(video_id, final)
        if ids:
            self._wake.set()

    def _release(self, watch: Watch, ids: Sequence[str]) -> None:
        for video_id in ids:
            watchers = self._watchers.get(video_id)
            if watchers is None or watch not in watchers:
                continue
            watchers.discard(watch)
            self._refs[video_id] -= 1
            if self._refs[video_id] == 0:
                del self._refs[video_id], self._watchers[video_id]
                self._final.pop(video_id, None)

    # ---- the loop ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), context=contextvars.Context())

    async def aclose(self) -> None:
        await stopped(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            due = self.due()
            if not due:
                self._wake.clear()
                self.parked = True
                await self._wake.wait()
                self.parked = False
                continue
            try:
                await self.poll_round(due)
            except Exception as exc:  # a bug: every subscriber would wait for good; poll on instead
                log.error("poll round failed unexpectedly: %s: %s", type(exc).__name__, exc)
            await self.clock.sleep(self._interval)

    async def poll_round(self, ids: Sequence[str]) -> None:
        """Look up ``ids`` once, in calls of ``chunk``, and hand the answers out as each call ends."""
        started = self.clock.now()
        chunks = [ids[i : i + self._chunk] for i in range(0, len(ids), self._chunk)]
        await asyncio.gather(*(self._poll(c) for c in chunks))
        self.rounds += 1
        if self._on_round is not None:
            self._on_round(len(ids), self.clock.now() - started)

    async def _poll(self, ids: Sequence[str]) -> None:
        try:
            outcomes = await self._lookup(ids)
        except Exception as exc:  # a bug below us: try again next round rather than stop polling
            log.error("poll lookup failed unexpectedly: %s: %s", type(exc).__name__, exc)
            self.errors += len(ids)
            return
        self.deliver(ids, outcomes)

    def deliver(self, ids: Sequence[str], outcomes: Sequence[Outcome]) -> None:
        """Hand fresh answers to each video's watchers: a poll's, or a refetch's after a VOD
        callback (``refetch.py``); a final one stops the polling of that video."""
        for video_id, outcome in zip(ids, outcomes, strict=True):
            watchers = self._watchers.get(video_id)
            if watchers is None:
                continue  # released while the call was out, or watched by nobody here
            if not isinstance(outcome, TranscodeSummaryRecord | VideoNotFound):
                self.errors += 1  # throttled or failed: the next round asks again
                continue
            if is_final(outcome):
                self._final[video_id] = outcome
            views: dict[View, object] = {}  # subscribers of the same operation share one view
            for watch in list(watchers):
                try:
                    if watch.view not in views:
                        views[watch.view] = watch.view(outcome)
                    watch.offer(video_id, outcome, views[watch.view])
                except Exception as exc:  # one subscriber's bug must not stop the others' news
                    log.error("a watcher failed: %s: %s", type(exc).__name__, exc)
