"""Refetches triggered by VOD's callbacks: a callback says "look again", never what changed.

A video nobody subscribes to costs no call: its cached summary is dropped (the next query asks
the upstream), with the answers built from it. For a watched video, triggers within ``window``
seconds cost one lookup, and a duplicate delivery nothing more. The lookup goes through the
scheduler as a flow of its own tenant (``vod-callbacks``; new flows first: ahead of the queries
already queued), always from the upstream. Its answers refresh the summary cache (as every call
does), reach the poller's watchers at once, and are handed to ``on_refreshed`` listeners (the
response cache drops the answers built from those videos). With Redis, the IDs are then
published to the other replicas (``redis_events.py``), which take a refetched answer from the shared
cache, or look a video up themselves if it was only dropped; what they do is never published again.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Sequence

from gateway.clock import Clock
from gateway.loading.batcher import Batcher
from gateway.loading.cache import Outcome, SummaryCache
from gateway.loading.fair import Flow
from gateway.loading.poller import Poller
from gateway.loading.tasks import stopped

log = logging.getLogger("gateway.callbacks")

CALLBACK_TENANT = "vod-callbacks"
Refreshed = Callable[[Sequence[str], Sequence[Outcome]], None]


def _never(outcome: Outcome) -> bool:
    return False  # a callback means the cached answer may be stale: always ask the upstream


class Refetcher:
    def __init__(
        self,
        source: Batcher,
        poller: Poller,
        clock: Clock,
        cache: SummaryCache | None = None,
        window: float = 0.25,
    ) -> None:
        self._source = source
        self._cache = cache
        self._poller = poller
        self._clock = clock
        self._window = window
        # watched IDs triggered, not yet looked up -> whether to tell the other replicas after
        self._pending: dict[str, bool] = {}
        self._forgotten: dict[str, None] = {}  # unwatched IDs triggered: dropped, not looked up
        self._publish: Callable[[Sequence[str]], Awaitable[None]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Refreshed] = []
        self.triggers = 0
        self.lookups = 0  # IDs looked up: triggers minus what coalescing saved

    def on_refreshed(self, listener: Refreshed) -> None:
        self._listeners.append(listener)

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def idle(self) -> bool:
        """Nothing triggered is waiting or being looked up."""
        return not self._pending and not self._forgotten and (self._task is None or self._task.done())

    def publish_to(self, publish: Callable[[Sequence[str]], Awaitable[None]]) -> None:
        """Tell the other replicas which videos a callback was about (after acting on it here)."""
        self._publish = publish

    def trigger(self, video_id: str, *, tell_others: bool = True) -> None:
        """Look ``video_id`` up again soon (returns at once: the callback is answered 200 first)."""
        self.triggers += 1
        if not self._poller.refcount(video_id):
            if tell_others:
                self._forgotten[video_id] = None
        else:
            self._pending[video_id] = self._pending.get(video_id, False) or tell_others
        self._ensure_flush()

    def _ensure_flush(self) -> None:
        if (self._pending or self._forgotten) and (self._task is None or self._task.done()):
            # its own context: the refetch serves every subscriber, not the callback's request
            self._task = asyncio.get_running_loop().create_task(self._flush(), context=contextvars.Context())

    async def _flush(self) -> None:
        await self._clock.sleep(self._window)  # later triggers for the same videos join this one
        while self._forgotten:
            ids, self._forgotten = list(self._forgotten), {}
            try:
                if self._cache is not None:
                    await self._cache.forget(ids)
                for listener in self._listeners:
                    listener(ids, [])
                if self._publish is not None:
                    await self._publish(ids)
            except Exception as exc:
                log.error("callback invalidation failed unexpectedly: %s: %s", type(exc).__name__, exc)
        while self._pending:
            taken, self._pending = self._pending, {}
            ids = list(taken)
            self.lookups += len(ids)
            try:
                outcomes = await self._source.load_many(ids, _never, Flow(CALLBACK_TENANT))
                self._poller.deliver(ids, outcomes)
                for listener in self._listeners:
                    listener(ids, outcomes)
                if self._publish is not None:
                    await self._publish([i for i in ids if taken[i]])
            except Exception as exc:  # a bug: the poller still reconciles; never lose the loop
                log.error("callback refetch failed unexpectedly: %s: %s", type(exc).__name__, exc)

    async def remote(self, ids: list[str]) -> None:
        """Another replica acted on callbacks for ``ids``: drop the answers built from them here;
        a watched one is taken from the shared cache if it was refetched, else looked up here."""
        for listener in self._listeners:
            listener(ids, [])
        watched = [i for i in ids if self._poller.refcount(i)]
        found = await self._cache.get_many(watched) if self._cache is not None and watched else {}
        fresh = [i for i in watched if i in found]
        self._poller.deliver(fresh, [found[i] for i in fresh])
        for video_id in watched:
            if video_id not in found:
                self.trigger(video_id, tell_others=False)

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            await stopped(self._task)
