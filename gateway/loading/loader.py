"""The per-operation DataLoader in front of the gateway-wide :class:`~gateway.loading.batcher.Batcher`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from aiodataloader import DataLoader

from gateway.loading.cache import Outcome, Usable


class SummarySource(Protocol):
    async def load_many(self, ids: Sequence[str], usable: Usable | None = None) -> list[Outcome]: ...


def summary_loader(source: SummarySource) -> DataLoader[str, Any]:
    """A per-request DataLoader[str, Any]: dedups within the operation; failed keys hold their error."""

    async def batch_load(keys: list[str]) -> list[Outcome]:
        return await source.load_many(keys)

    return DataLoader(batch_load_fn=batch_load)
