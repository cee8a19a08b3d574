"""Open WebSocket operations, counted per process and per API key (tenant): past either cap a new
``subscribe`` (or legacy ``start``) gets the protocol's ``error`` message, coded ``RATE_LIMITED``;
the connection and its other operations go on. A slot is held by the operation's task and freed
when the task ends, however it ends (complete, stop, a disconnect, an error)."""

from __future__ import annotations

import asyncio
import contextvars
from collections import Counter
from typing import Any

from gateway.schema.errors import ErrorCode

_EMPTY = contextvars.Context()


class OperationSlots:
    def __init__(self, total: int, per_key: int) -> None:
        self.total, self.per_key = total, per_key
        self._open: Counter[str] = Counter()
        self._all = 0

    def acquire(self, tenant: str) -> dict[str, Any] | None:
        """Take a slot for ``tenant``'s new operation; or the error to answer instead (None: taken)."""
        if self._open[tenant] >= self.per_key:
            return _error(
                f"for this API key: at most {self.per_key}", "GATEWAY_SUBSCRIPTIONS_PER_KEY", self.per_key
            )
        if self._all >= self.total:
            return _error(f"on this server: at most {self.total}", "GATEWAY_SUBSCRIPTIONS_MAX", self.total)
        self._open[tenant] += 1
        self._all += 1
        return None

    def release(self, tenant: str) -> None:
        self._open[tenant] -= 1
        if self._open[tenant] <= 0:
            del self._open[tenant]
        self._all -= 1

    def hold(self, tenant: str, task: asyncio.Task[Any] | None) -> None:
        """The acquired slot is held by ``task`` (None: the operation never started; freed now)."""
        if task is None or task.done():
            self.release(tenant)
        else:  # run in a shared empty context: a copy of the caller's for each would cost 0.4 KB
            task.add_done_callback(lambda _: self.release(tenant), context=_EMPTY)

    def open(self, tenant: str | None = None) -> int:
        return self._all if tenant is None else self._open[tenant]


def _error(where: str, variable: str, limit: int) -> dict[str, Any]:
    return {
        "message": f"Too many open subscriptions {where} ({variable}); complete one, or retry later",
        "extensions": {"code": ErrorCode.RATE_LIMITED.value, "limit": limit},
    }
