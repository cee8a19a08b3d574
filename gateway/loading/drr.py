"""Deficit round robin, one ID at a time, with new members first: the rotation the fair queue
(``fair.py``) keeps over tenants, and each tenant keeps over its flows.

A member that joins (or comes back after it had nothing queued) starts on the *new* list with one
quantum of credit, and the new list is served before the *old* one (as FQ-CoDel does): a flow with
one ID waiting goes into the next call, however long the others' queues are. Each ID taken costs
one unit of credit; a member out of credit gets its quantum (its weight, in IDs) again and moves to
the old list's tail. So at saturation each member gets IDs in proportion to its weight, turn by
turn within every call, and a member that has nothing left leaves the rotation.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


def _never(_: object) -> bool:
    return False


class Rotation(Generic[K]):
    __slots__ = ("_credit", "_new", "_old")

    def __init__(self) -> None:
        self._new: OrderedDict[K, None] = OrderedDict()
        self._old: OrderedDict[K, None] = OrderedDict()
        self._credit: dict[K, float] = {}

    def __len__(self) -> int:
        return len(self._credit)

    def __contains__(self, member: K) -> bool:
        return member in self._credit

    def __iter__(self) -> object:
        return iter(self._credit)

    def members(self) -> list[K]:
        return list(self._credit)

    def add(self, member: K, quantum: float) -> None:
        """``member`` has IDs queued: it joins as new (no-op if it is in the rotation already)."""
        if member not in self._credit:
            self._new[member] = None
            self._credit[member] = max(1.0, quantum)  # at least one ID ahead of the old list

    def remove(self, member: K) -> None:
        """``member`` has nothing queued any more: it leaves, and its credit with it."""
        self._credit.pop(member, None)
        self._new.pop(member, None)
        self._old.pop(member, None)

    def pick(self, quantum: Callable[[K], float], blocked: Callable[[K], bool] = _never) -> K | None:
        """The member whose turn it is to give an ID (then :meth:`charge` it); None if every
        member is ``blocked`` (e.g. over its cap) or there is none. A blocked member goes to the
        old list's tail without new credit."""
        seen_blocked: set[K] = set()
        while self._new or self._old:
            line = self._new if self._new else self._old
            member = next(iter(line))
            if blocked(member):
                seen_blocked.add(member)
                del line[member]
                self._old[member] = None
                if len(seen_blocked) == len(self._credit):
                    return None
                continue
            if self._credit[member] >= 1:
                return member
            del line[member]
            self._credit[member] += quantum(member)
            self._old[member] = None
        return None

    def charge(self, member: K) -> None:
        if member in self._credit:
            self._credit[member] -= 1
