"""One call: its IDs sent upstream on the pump's grant, and every waiter answered an outcome."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from gateway.loading.cache import Outcome, SummaryCache
from gateway.loading.errors import InternalFailure, ShuttingDown
from gateway.loading.fair import Entry
from gateway.loading.limiter import Admission, Grant
from gateway.vod.client import Admit
from gateway.vod.errors import VideoNotFound, VodError
from gateway.vod.models import SummaryPage

log = logging.getLogger("gateway.batcher")

Fetch = Callable[[list[str], float, Admit], Awaitable[SummaryPage]]
"""(ids, deadline, admit for retries) -> page; the first attempt's grant is already taken."""


def outcomes_from_page(ids: Sequence[str], page: SummaryPage) -> dict[str, Outcome]:
    """Found → record; listed in NonExistVideoIds or absent from the answer → VideoNotFound."""
    found = page.summaries
    return {i: found[i] if i in found else VideoNotFound(i) for i in ids}


async def send(
    fetch: Fetch,
    admission: Admission,
    cache: SummaryCache | None,
    batch: dict[str, Entry],
    grant: Grant,
    inflight: dict[str, Entry],
) -> None:
    """Send ``batch`` (already in ``inflight``) on ``grant``; resolve each entry and take it out
    of ``inflight``, whatever happens."""
    ids = list(batch)
    deadline = min(e.deadline for e in batch.values())
    first: Grant | None = grant

    async def admit(retry_deadline: float) -> Grant:
        """The first attempt goes on the pump's grant; retries queue for their own."""
        nonlocal first
        if first is not None:
            taken, first = first, None
            return taken
        return await admission.acquire(retry_deadline)

    outcomes: dict[str, Outcome]
    try:
        page = await fetch(ids, deadline, admit)
        outcomes = outcomes_from_page(ids, page)
        if cache is not None:
            await cache.put_many(outcomes)
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
            inflight.pop(video_id, None)
            entry.resolve(outcomes[video_id])
        if first is not None:  # the fetch never used the pump's grant
            await first.release()
