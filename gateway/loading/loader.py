"""Where the per-request DataLoaders get their outcomes from.

:class:`~gateway.loading.batcher.Batcher` (the default) coalesces across requests;
:class:`DirectSource` is the per-request-DataLoader-only baseline (``GATEWAY_COALESCE=false``),
kept for comparison in the benchmark: each loader batch goes straight to the limiter and upstream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from aiodataloader import DataLoader

from gateway.clock import Clock
from gateway.loading.batcher import Fetch, outcomes_from_page
from gateway.loading.cache import Outcome, SummaryCache, Usable, read_cached
from gateway.loading.limiter import Admission
from gateway.vod.client import MAX_IDS_PER_CALL
from gateway.vod.errors import VodError


class SummarySource(Protocol):
    async def load_many(self, ids: Sequence[str], usable: Usable | None = None) -> list[Outcome]: ...


class DirectSource:
    def __init__(
        self,
        fetch: Fetch,
        admission: Admission,
        clock: Clock,
        *,
        cache: SummaryCache | None = None,
        max_wait: float = 10.0,
        on_cache: Callable[[int, int], None] | None = None,
    ) -> None:
        self._fetch = fetch
        self._admission = admission
        self._clock = clock
        self._cache = cache
        self._max_wait = max_wait
        self._on_cache = on_cache

    async def load_many(self, ids: Sequence[str], usable: Usable | None = None) -> list[Outcome]:
        cached = await read_cached(self._cache, ids, usable, self._on_cache)
        wanted = list(dict.fromkeys(i for i in ids if i not in cached))
        chunks = [wanted[i : i + MAX_IDS_PER_CALL] for i in range(0, len(wanted), MAX_IDS_PER_CALL)]
        results = await asyncio.gather(*(self._one_call(c) for c in chunks))
        outcomes: dict[str, Outcome] = dict(cached)
        for result in results:
            outcomes.update(result)
        return [outcomes[i] for i in ids]

    async def _one_call(self, ids: list[str]) -> dict[str, Outcome]:
        deadline = self._clock.now() + self._max_wait
        try:
            page = await self._fetch(ids, deadline, self._admission.acquire)
        except VodError as exc:
            return dict.fromkeys(ids, exc)
        outcomes = outcomes_from_page(ids, page)
        if self._cache is not None:
            await self._cache.put_many(outcomes)
        return outcomes


def summary_loader(source: SummarySource) -> DataLoader[str, Any]:
    """A per-request DataLoader[str, Any]: dedups within the operation; failed keys hold their error."""

    async def batch_load(keys: list[str]) -> list[Outcome]:
        return await source.load_many(keys)

    return DataLoader(batch_load_fn=batch_load)
