"""The IDs waiting for a call, queued fairly: tenants, their flows, and the poller's flow.

A **flow** is one operation (or one subscription's first lookup); a **tenant** is an API key (one
tenant, ``open``, when keys are off) and holds its flows. Each call takes its IDs by deficit round
robin (``drr.py``) over the tenants with IDs waiting, weighted by their share, and within the
tenant whose turn it is, over its flows: a flow with one ID waiting goes into the next call, a
100-ID flow gets its share of each call, not the whole queue. A tenant with a cap (IDs per second)
is skipped while its bucket is empty.

An ID waits once, as one :class:`Entry` whose future all its waiters share (single flight), however
many flows want it; the first flow whose turn takes it sends it for all of them. The poller's IDs
wait in a flow of their own at low priority: a call takes them only after the query flows, except
once the oldest has waited ``starve_after`` seconds (the starvation guard). A query wanting a poll
ID moves it to the query flows. A flow whose waiters left takes its IDs with it (:meth:`leave`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping

from gateway.loading.cache import Outcome
from gateway.loading.drr import Rotation
from gateway.loading.flows import OPEN_TENANT, POLLER_TENANT, Bucket, Budget, Entry, Flow

__all__ = ["OPEN_TENANT", "POLLER_TENANT", "Budget", "Entry", "FairQueue", "Flow", "Served"]


class _Tenant:
    __slots__ = ("flows", "waiting")

    def __init__(self) -> None:
        self.flows: Rotation[Flow] = Rotation()
        self.waiting = 0  # IDs queued in its flows (an ID two of its flows want counts twice)


Served = Callable[[str, list[float]], None]
"""(tenant, seconds each ID waited) for each tenant's IDs a call takes."""


class FairQueue:
    def __init__(
        self,
        max_wait: float,
        batch_size: int,
        starve_after: float,
        budgets: Mapping[str, Budget] | None = None,
        on_served: Served | None = None,
    ) -> None:
        self._max_wait = max_wait
        self._batch_size = batch_size
        self._starve_after = starve_after
        self._budgets = dict(budgets or {})
        self._on_served = on_served
        self._queries: OrderedDict[str, Entry] = OrderedDict()  # join order is deadline order
        self._background: OrderedDict[str, Entry] = OrderedDict()
        self._tenants: dict[str, _Tenant] = {}
        self._rotation: Rotation[str] = Rotation()
        self._buckets: dict[str, Bucket] = {}

    def __bool__(self) -> bool:
        return bool(self._queries or self._background)

    @property
    def queries(self) -> int:
        return len(self._queries)

    @property
    def background(self) -> int:
        return len(self._background)

    def waiting_by_tenant(self) -> dict[str, int]:
        waiting = {name: t.waiting for name, t in self._tenants.items()}
        if self._background:
            waiting[POLLER_TENANT] = len(self._background)
        return waiting

    def flows(self) -> int:
        return sum(len(t.flows) for t in self._tenants.values())

    def budget(self, tenant: str) -> Budget:
        return self._budgets.get(tenant) or Budget()

    def full(self) -> bool:
        """A full call of query IDs is waiting. (Poll IDs stay paced: at most one poll-only call
        per interval, so a query arriving meanwhile finds the next slot free.)"""
        return len(self._queries) >= self._batch_size

    def oldest_query_deadline(self) -> float | None:
        return next(iter(self._queries.values())).deadline if self._queries else None

    def queued(self, video_id: str) -> bool:
        """``video_id`` waits in the query flows already (another flow's turn may take it)."""
        return video_id in self._queries

    def join(self, video_id: str, flow: Flow | None, now: float) -> Entry:
        """The entry ``video_id`` waits in for ``flow`` (None: the poller's), made, or promoted
        from the poller's flow to the query flows, as needed."""
        entry = self._queries.get(video_id)
        if entry is None:
            entry = self._background.get(video_id)
            if entry is None:
                future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
                entry = Entry(future, float("inf"), now)  # a poll ID's deadline starts when taken
                if flow is None:
                    self._background[video_id] = entry
                    return entry
            elif flow is None:
                return entry
            else:  # a query wants it: promote it to the query flows
                del self._background[video_id]
            entry.deadline = now + self._max_wait
            self._queries[video_id] = entry
        if flow is not None:
            self._hold(flow, video_id, entry)
        return entry

    def _hold(self, flow: Flow, video_id: str, entry: Entry) -> None:
        flow.refs[video_id] = flow.refs.get(video_id, 0) + 1
        if flow.queue.get(video_id) is entry:  # this flow queued it already (asked twice)
            return
        # (a count left by a join whose entry a call took is no sign: that join may not have left
        # yet when the flow asks again, and this new entry must be queued, or nobody takes it)
        flow.queue[video_id] = entry
        entry.holders.append(flow)
        tenant = self._tenants.get(flow.tenant)
        if tenant is None:
            tenant = self._tenants[flow.tenant] = _Tenant()
            self._rotation.add(flow.tenant, self.budget(flow.tenant).weight)
        tenant.waiting += 1
        tenant.flows.add(flow, 1.0)

    def leave(self, flow: Flow | None, video_id: str, entry: Entry) -> None:
        """One join of ``flow``'s is over (answered or abandoned): its ID leaves the flow, and the
        queue if nobody waits for it any more."""
        if flow is not None:
            refs = flow.refs.get(video_id, 0) - 1
            if refs > 0:
                flow.refs[video_id] = refs
            else:
                flow.refs.pop(video_id, None)
                if flow.queue.get(video_id) is entry:
                    self._unhold(flow, video_id, entry)
        if entry.waiters > 0:
            return
        if self._queries.get(video_id) is entry:
            self._dequeue(video_id, entry)
            entry.future.cancel()
        elif self._background.get(video_id) is entry:
            del self._background[video_id]
            entry.future.cancel()

    def _unhold(self, flow: Flow, video_id: str, entry: Entry) -> None:
        del flow.queue[video_id]
        entry.holders.remove(flow)
        tenant = self._tenants[flow.tenant]
        tenant.waiting -= 1
        if not flow.queue:
            tenant.flows.remove(flow)
            if not tenant.flows:
                del self._tenants[flow.tenant]
                self._rotation.remove(flow.tenant)

    def _dequeue(self, video_id: str, entry: Entry) -> None:
        """``video_id`` leaves the query flows (taken, expired or abandoned)."""
        del self._queries[video_id]
        for flow in list(entry.holders):  # its refs stay: each waiter leaves in its own time
            self._unhold(flow, video_id, entry)

    def _capped(self, tenant: str) -> bool:
        bucket = self._buckets.get(tenant)
        return bucket is not None and bucket.tokens < 1

    def _bucket(self, tenant: str, now: float) -> Bucket | None:
        cap = self.budget(tenant).cap
        if cap is None:
            return None
        bucket = self._buckets.get(tenant)
        if bucket is None:
            bucket = self._buckets[tenant] = Bucket(cap, now)
        bucket.level(now)
        return bucket

    def ready_at(self, now: float) -> float:
        """When the next call could go: ``now``, or, if every tenant waiting has a cap, when one
        of them may send a full call's worth (or all it has queued): a capped tenant alone
        doesn't spend the account's calls on one ID each (infinity: nothing waits)."""
        if self._background:
            return now
        times = []
        for name, tenant in self._tenants.items():
            bucket = self._bucket(name, now)
            if bucket is None:
                return now
            times.append(bucket.ready_at(now, min(self._batch_size, tenant.waiting)))
        return min(times, default=float("inf"))

    def take(self, now: float) -> dict[str, Entry]:
        """Up to ``batch_size`` IDs for the next call (see the module docstring for the order)."""
        batch: dict[str, Entry] = {}
        if self._background:
            oldest = next(iter(self._background.values()))
            if now - oldest.since >= self._starve_after:
                self._take_background(batch, now)
        self._take_queries(batch, now)
        self._take_background(batch, now)
        return batch

    def _take_queries(self, batch: dict[str, Entry], now: float) -> None:
        for known in self._tenants:
            self._bucket(known, now)
        served: dict[str, list[float]] = {}
        while len(batch) < self._batch_size:
            name = self._rotation.pick(lambda t: self.budget(t).weight, self._capped)
            if name is None:
                break
            tenant = self._tenants[name]
            flow = tenant.flows.pick(lambda _: 1.0)
            assert flow is not None, "a tenant in the rotation has a flow with IDs"
            video_id, entry = next(iter(flow.queue.items()))
            self._rotation.charge(name)
            tenant.flows.charge(flow)
            bucket = self._buckets.get(name)
            if bucket is not None:
                bucket.tokens -= 1
            self._dequeue(video_id, entry)
            if entry.waiters > 0:
                batch[video_id] = entry
                served.setdefault(name, []).append(now - entry.since)
            else:
                entry.future.cancel()
        if self._on_served is not None:
            for name, waits in served.items():
                self._on_served(name, waits)

    def _take_background(self, batch: dict[str, Entry], now: float) -> None:
        waits: list[float] = []
        while self._background and len(batch) < self._batch_size:
            video_id, entry = self._background.popitem(last=False)
            if entry.waiters > 0:
                entry.deadline = now + self._max_wait
                batch[video_id] = entry
                waits.append(now - entry.since)
            else:
                entry.future.cancel()
        if waits and self._on_served is not None:
            self._on_served(POLLER_TENANT, waits)

    def expire(self, before: float, error: Outcome) -> None:
        """Answer ``error`` to query IDs whose deadline comes before ``before``."""
        while self._queries:
            video_id, entry = next(iter(self._queries.items()))
            if entry.deadline >= before:
                break
            self._dequeue(video_id, entry)
            entry.resolve(error)

    def fail_background(self, error: Outcome) -> None:
        lane, self._background = self._background, OrderedDict()
        for entry in lane.values():
            entry.resolve(error)

    def expected_wait(self, flow: Flow, more: int, ids_per_second: float) -> float:
        """Seconds until ``flow``'s queue, with ``more`` IDs added, would be served at its fair
        share of ``ids_per_second``, if nothing else joined: within its tenant, each other flow
        is served up to as many IDs as this one; across tenants, each other tenant up to as many
        as this tenant's, in proportion to the weights; and this tenant no faster than its cap."""
        mine = len(flow.queue) + more
        tenant = self._tenants.get(flow.tenant)
        ahead = mine
        if tenant is not None:
            ahead += sum(min(len(f.queue), mine) for f in tenant.flows.members() if f is not flow)
        weight = self.budget(flow.tenant).weight
        total = ahead + sum(
            min(other.waiting, ahead * self.budget(name).weight / weight)
            for name, other in self._tenants.items()
            if name != flow.tenant
        )
        wait = total / ids_per_second
        cap = self.budget(flow.tenant).cap
        if cap is not None:
            wait = max(wait, ahead / cap)
        return wait

    def close(self, outcome: Outcome) -> None:
        for lane in (self._queries, self._background):
            for entry in lane.values():
                entry.resolve(outcome)
                for flow in entry.holders:
                    flow.queue.clear()
                entry.holders.clear()
            lane.clear()
        self._tenants.clear()
        self._rotation = Rotation()
