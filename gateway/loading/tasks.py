"""The background loops of the long-lived parts (the poller, the memory return, the refetcher, the
Redis listeners): stopping one is cancelling it and waiting until it has run its ``finally``."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def stopped(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` (if any) and wait for it to end; its cancellation is not an error."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
