"""Optional short-lived cache of lookup outcomes: summaries and not-found answers, never errors.

TTLs follow the status: a summary still transcoding changes within seconds, a finished one rarely.
The in-memory cache lives here; the Redis one (shared by replicas) implements the same protocol.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.clock import Clock
from gateway.loading.errors import LookupFailed
from gateway.vod.errors import VideoNotFound, VodError
from gateway.vod.models import TranscodeSummaryRecord

Outcome = TranscodeSummaryRecord | VodError | LookupFailed
"""A lookup's result: the record, or why there is none (see ``gateway/loading/errors.py``)."""

Usable = Callable[[Outcome], bool]
"""Whether a cached outcome may be answered as it is, or must be looked up anew."""


def version_of(outcome: Outcome | BaseException) -> int | None:
    """A summary's version: equal content, equal version (within this process); a not-found answer
    has one too. Errors have none: an answer built from one is never reused."""
    if isinstance(outcome, TranscodeSummaryRecord):
        return hash(outcome)  # frozen records hash their fields, jobs included
    if isinstance(outcome, VideoNotFound):
        return hash((VideoNotFound, outcome.video_id))
    return None


@dataclass(frozen=True)
class CacheTTLs:
    active: float = 2.0  # Processing, Partial (and UNKNOWN)
    terminal: float = 30.0  # CompleteAllSucc, CompleteAllFail, CompletePartialSucc
    not_found: float = 5.0

    @property
    def enabled(self) -> bool:
        return max(self.active, self.terminal, self.not_found) > 0

    def ttl_for(self, outcome: Outcome) -> float:
        if isinstance(outcome, TranscodeSummaryRecord):
            return self.terminal if outcome.status.terminal else self.active
        if isinstance(outcome, VideoNotFound):
            return self.not_found
        return 0.0  # errors are never cached


class SummaryCache(Protocol):
    async def get_many(self, ids: Sequence[str]) -> dict[str, Outcome]: ...

    async def put_many(self, outcomes: Mapping[str, Outcome]) -> None: ...

    async def forget(self, ids: Sequence[str]) -> None: ...


async def read_cached(
    cache: SummaryCache | None,
    ids: Sequence[str],
    usable: Usable | None = None,
    on_cache: Callable[[int, int], None] | None = None,
) -> dict[str, Outcome]:
    """The cached outcomes of ``ids`` that ``usable`` accepts; ``on_cache(hits, misses)`` counts them."""
    if cache is None:
        return {}
    cached = await cache.get_many(ids)
    if usable is not None:
        cached = {i: o for i, o in cached.items() if usable(o)}
    if on_cache is not None:
        on_cache(len(cached), len(set(ids)) - len(cached))
    return cached


REHOME = 5_000
"""Entries :meth:`MemoryCache.rehome` rebuilds at most (a few tens of ms)."""


class MemoryCache:
    """A bounded, least-recently-written map with per-entry expiry."""

    def __init__(self, ttls: CacheTTLs, clock: Clock, max_entries: int = 100_000) -> None:
        self._ttls = ttls
        self._clock = clock
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[float, Outcome]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get_many(self, ids: Sequence[str]) -> dict[str, Outcome]:
        now = self._clock.now()
        found: dict[str, Outcome] = {}
        entries = self._entries
        for video_id in ids:
            entry = entries.get(video_id)
            if entry is None:
                continue
            if entry[0] > now:
                found[video_id] = entry[1]
            else:
                del entries[video_id]
        return found

    async def put_many(self, outcomes: Mapping[str, Outcome]) -> None:
        now = self._clock.now()
        entries = self._entries
        for video_id, outcome in outcomes.items():
            ttl = self._ttls.ttl_for(outcome)
            if ttl <= 0:
                continue
            entries[video_id] = (now + ttl, outcome)
            entries.move_to_end(video_id)
        while len(entries) > self._max:
            entries.popitem(last=False)

    async def forget(self, ids: Sequence[str]) -> None:
        for video_id in ids:
            self._entries.pop(video_id, None)

    def rehome(self, newest: int = REHOME) -> int:
        """The ``newest`` entries rebuilt in new memory (key, expiry and record, through the Redis
        codec), in their order, the old objects let go; how many. Entries written while thousands
        of subscriptions lived are scattered among their freed memory and keep its pages from going
        back to the system (``memory.py``); the copies are made once that memory is free, together."""
        from gateway.loading.codec import decode, encode  # the codec imports this module's types

        entries = self._entries
        keys = list(entries)[-newest:]
        for key in keys:
            expires, outcome = entries.pop(key)
            data = encode(outcome)
            copied = decode(data) if data is not None else None
            entries[key.encode().decode()] = (expires + 0.0, outcome if copied is None else copied)
        return len(keys)
