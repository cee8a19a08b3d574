"""The per-operation DataLoader in front of the gateway-wide :class:`~gateway.loading.batcher.Batcher`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from aiodataloader import DataLoader

from gateway.loading.cache import Outcome, Usable
from gateway.loading.errors import LookupFailed
from gateway.vod.errors import VodError


class SummarySource(Protocol):
    async def load_many(self, ids: Sequence[str], usable: Usable | None = None) -> list[Outcome]: ...


class SummaryLoader(DataLoader[str, Any]):
    """A DataLoader whose lists skip the future per key: :meth:`outcomes` asks the source once for
    the keys this operation hasn't asked yet, and keeps their outcomes for later ``load``s.

    A ``load`` of a key that a list's call is fetching waits for that call: one flow never asks
    the source twice at once for the same video."""

    def __init__(self, source: SummarySource) -> None:
        async def batch_load(keys: list[str]) -> list[Outcome]:
            return await source.load_many(keys)

        super().__init__(batch_load_fn=batch_load)
        self._source = source
        self._outcomes: dict[str, Outcome] = {}
        self._fetching: dict[str, asyncio.Future[None]] = {}  # key -> the list call fetching it

    def load(self, key: str) -> asyncio.Future[Any]:
        if key in self._outcomes:
            future = self.loop.create_future()
            self._settle(key, future)
            return future
        call = self._fetching.get(key)
        if call is None:
            return super().load(key)
        future = self.loop.create_future()
        call.add_done_callback(lambda done: self._settle(key, future, done))
        return future

    def _settle(
        self, key: str, future: asyncio.Future[Any], call: asyncio.Future[None] | None = None
    ) -> None:
        """``future`` gets ``key``'s outcome (or the failure of the ``call`` that was to fetch it)."""
        if future.done():
            return
        if call is not None and call.cancelled():
            future.cancel()
            return
        failure = call.exception() if call is not None else None
        outcome = failure if failure is not None else self._outcomes[key]
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    async def outcomes(self, keys: Sequence[str]) -> list[Any]:
        """One outcome per key, in order (a record or the key's error, as values, never raised)."""
        known = self._outcomes
        waiting: dict[str, asyncio.Future[Any]] = {}
        missing: list[str] = []
        for key in dict.fromkeys(keys):
            if key in known:
                continue
            pending = self._cache.get(key)
            if pending is not None:
                waiting[key] = pending
            else:
                missing.append(key)
        if missing:
            call: asyncio.Future[None] = self.loop.create_future()
            self._fetching.update(dict.fromkeys(missing, call))
            try:
                found: list[Any] = await self._source.load_many(missing)
            except (VodError, LookupFailed) as exc:  # the call failed: each of its keys did
                found = [exc] * len(missing)
            except Exception as exc:  # a bug: the loads waiting on this call get it too
                call.set_exception(exc)
                call.exception()  # retrieved: the list's own caller reports it
                raise
            except BaseException:  # cancelled
                call.cancel()
                raise
            finally:
                for key in missing:
                    self._fetching.pop(key, None)
            known.update(zip(missing, found, strict=True))
            call.set_result(None)
        if waiting:
            settled = await asyncio.gather(*waiting.values(), return_exceptions=True)
            got = dict(zip(waiting, settled, strict=True))
            return [got[k] if k in got else known[k] for k in keys]
        return [known[k] for k in keys]


def summary_loader(source: SummarySource) -> SummaryLoader:
    """A per-request DataLoader[str, Any]: dedups within the operation; failed keys hold their error."""
    return SummaryLoader(source)
