"""The IDs waiting for a call: a query lane, oldest first, and a low-priority lane (the poller's).

An ID waits in at most one lane, as one :class:`Entry` whose future all its waiters share. A call
takes every query ID first, then background ones; but background IDs go first once the oldest has
waited ``starve_after`` seconds, so a gateway saturated by queries still answers its subscribers.
A query wanting a background ID promotes it to the query lane. IDs nobody waits for any more are
dropped, not sent.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from gateway.loading.cache import Outcome


class Entry:
    __slots__ = ("deadline", "future", "since", "waiters")

    def __init__(self, future: asyncio.Future[Outcome], deadline: float, since: float) -> None:
        self.future = future
        self.deadline = deadline
        self.since = since  # when it joined the queue
        self.waiters = 0

    def resolve(self, outcome: Outcome) -> None:
        if not self.future.done():
            self.future.set_result(outcome)


class Lanes:
    def __init__(self, max_wait: float, batch_size: int, starve_after: float) -> None:
        self._max_wait = max_wait
        self._batch_size = batch_size
        self._starve_after = starve_after
        self._queries: OrderedDict[str, Entry] = OrderedDict()
        self._background: OrderedDict[str, Entry] = OrderedDict()

    def __bool__(self) -> bool:
        return bool(self._queries or self._background)

    @property
    def queries(self) -> int:
        return len(self._queries)

    @property
    def background(self) -> int:
        return len(self._background)

    def full(self) -> bool:
        """A full call of query IDs is waiting. (Poll IDs stay paced: at most one poll-only call
        per interval, so a query arriving meanwhile finds the next slot free.)"""
        return len(self._queries) >= self._batch_size

    def oldest_query_deadline(self) -> float | None:
        return next(iter(self._queries.values())).deadline if self._queries else None

    def join(self, video_id: str, background: bool, now: float) -> Entry:
        """The entry ``video_id`` waits in, made (or promoted to the query lane) as needed."""
        entry = self._queries.get(video_id)
        if entry is not None:
            return entry
        entry = self._background.get(video_id)
        if entry is not None:
            if not background:  # a query wants it: promote it to the query lane
                del self._background[video_id]
                entry.deadline = now + self._max_wait
                self._queries[video_id] = entry
            return entry
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        if background:  # its deadline starts when a call takes it
            entry = self._background[video_id] = Entry(future, float("inf"), now)
        else:
            entry = self._queries[video_id] = Entry(future, now + self._max_wait, now)
        return entry

    def drop_abandoned(self) -> bool:
        """Forget waiting IDs nobody waits for any more; return whether any are left."""
        for lane in (self._queries, self._background):
            while lane:
                video_id, entry = next(iter(lane.items()))
                if entry.waiters > 0:
                    break
                del lane[video_id]
                entry.future.cancel()
        return bool(self)

    def expire(self, before: float, error: Outcome) -> None:
        """Answer ``error`` to query IDs whose deadline comes before ``before``."""
        for video_id in [i for i, e in self._queries.items() if e.deadline < before]:
            self._queries.pop(video_id).resolve(error)

    def fail_background(self, error: Outcome) -> None:
        lane, self._background = self._background, OrderedDict()
        for entry in lane.values():
            entry.resolve(error)

    def take(self, now: float) -> dict[str, Entry]:
        """Up to ``batch_size`` IDs for the next call (see the module docstring for the order)."""
        batch: dict[str, Entry] = {}
        lanes = (self._queries, self._background)
        if self._background:
            oldest = next(iter(self._background.values()))
            if now - oldest.since >= self._starve_after:
                lanes = (self._background, self._queries)
        for lane in lanes:
            while lane and len(batch) < self._batch_size:
                video_id, entry = lane.popitem(last=False)
                if entry.waiters > 0:
                    if lane is self._background:
                        entry.deadline = now + self._max_wait
                    batch[video_id] = entry
                else:
                    entry.future.cancel()
        return batch

    def close(self, outcome: Outcome) -> None:
        for lane in (self._queries, self._background):
            for entry in lane.values():
                entry.resolve(outcome)
            lane.clear()
