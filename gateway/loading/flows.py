"""What the fair queue (``fair.py``) is made of: an ID waiting (:class:`Entry`), a flow, a
tenant's budget and the bucket of its cap."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.loading.cache import Outcome

OPEN_TENANT = "open"
"""The one tenant when API keys are off."""
POLLER_TENANT = "poller"
"""The poller's flow, in metrics."""


@dataclass(frozen=True, slots=True)
class Budget:
    """A tenant's share of the account: its ``weight`` against the others', and optionally a cap
    in IDs per second."""

    weight: float = 1.0
    cap: float | None = None


class Entry:
    __slots__ = ("deadline", "future", "holders", "served_by", "since", "traces", "waiters")

    def __init__(self, future: asyncio.Future[Outcome], deadline: float, since: float) -> None:
        self.future = future
        self.deadline = deadline
        self.since = since  # when it joined the queue
        self.waiters = 0
        self.holders: list[Flow] = []  # the query flows it is queued in
        # tracing (opaque here): the operations' span contexts waiting for it, and the call's that served it
        self.traces: list[object] = []
        self.served_by: object | None = None

    def resolve(self, outcome: Outcome) -> None:
        if not self.future.done():
            self.future.set_result(outcome)


class Flow:
    """One operation's IDs waiting, in the order it asked for them (identity is the object)."""

    __slots__ = ("calls", "queue", "refs", "tenant", "trace")

    def __init__(self, tenant: str = OPEN_TENANT) -> None:
        self.tenant = tenant
        self.queue: OrderedDict[str, Entry] = OrderedDict()
        self.refs: dict[str, int] = {}  # joins per ID not yet left (a flow may ask an ID twice)
        # tracing (opaque here): the operation's span context, and those of the calls that served it
        self.trace: object | None = None
        self.calls: list[object] = []

    def served(self, entries: Iterable[Entry]) -> None:
        """Note the calls that answered ``entries`` (for the operation's span links)."""
        for entry in entries:
            if entry.served_by is not None and entry.served_by not in self.calls:
                self.calls.append(entry.served_by)

    def __repr__(self) -> str:
        return f"Flow({self.tenant!r}, {len(self.queue)} waiting)"


class Bucket:
    """A cap: ``rate`` IDs per second, up to one second's worth at once."""

    __slots__ = ("at", "rate", "tokens")

    def __init__(self, rate: float, now: float) -> None:
        self.rate, self.tokens, self.at = rate, max(1.0, rate), now

    def level(self, now: float) -> float:
        self.tokens = min(max(1.0, self.rate), self.tokens + (now - self.at) * self.rate)
        self.at = now
        return self.tokens

    def ready_at(self, now: float, need: float) -> float:
        """When ``need`` IDs (at most a second's worth) may go."""
        need = min(need, max(1.0, self.rate))
        return now + max(0.0, need - self.level(now)) / self.rate
