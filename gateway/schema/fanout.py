"""Subscription fan-out: one event build, and one encoding, per (selection, change).

The poller hands the same record object to every subscriber of a video (``loading/poller.py``).
For a ``transcodeSummaryUpdates`` event whose root field is plain data (no directives, no resolver
wrapped by an extension), every subscriber with the same selection has the same compiled projector
(``schema/projection.py`` compiles one per distinct shape), so the event's ``data`` is the same:
:class:`SharedEvents` builds it once per (projector, response name, record) and hands every such
subscriber the same dict; the WebSocket adapter (``http/websockets.py``) then encodes
``{"data": ...}`` once and splices the bytes into each subscriber's message, whose only own part
is its operation ``id``.

Anything else (an error event, a record the projector refuses, a payload with errors or
extensions) is built and encoded per subscriber, as before. The cache is bounded: it holds the
latest events, not one per subscription, and forgets them as newer ones come.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import orjson

from gateway.schema.projection import Projector

CACHE_SIZE = 4096
"""Distinct (selection, record) events kept: a poll round's changes for the selections in use."""


class _Event:
    __slots__ = ("data", "payload", "project", "record")

    def __init__(self, project: Projector, record: object, data: dict[str, Any]) -> None:
        self.project, self.record, self.data = project, record, data
        self.payload: bytes | None = None  # {"data": ...} as JSON, made when first sent


class SharedEvents:
    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._by_key: OrderedDict[tuple[int, str, int], _Event] = OrderedDict()
        self._by_data: dict[int, _Event] = {}
        self.builds = 0  # events built (projector calls)
        self.shared = 0  # events handed out again, already built
        self.encodes = 0  # payloads encoded
        self.planned = 0  # events executed by a subscription's plan, without graphql-core's collecting
        self.published = 0  # events of published subscriptions, without any per-event execution

    def event(self, project: Projector, response_name: str, record: object) -> dict[str, Any]:
        """``{response_name: project(record)}``, the same dict for every caller with these
        (``project`` raises :class:`~gateway.schema.completion.NotProjectable` as it does)."""
        key = (id(project), response_name, id(record))
        found = self._by_key.get(key)
        # an entry holds its record and projector: their ids can't be reused while it lives
        if found is not None and found.record is record and found.project is project:
            self.shared += 1
            return found.data
        data = {response_name: project(record)}
        self.builds += 1
        made = self._by_key[key] = _Event(project, record, data)
        self._by_data[id(data)] = made
        if len(self._by_key) > self._size:
            _, old = self._by_key.popitem(last=False)
            self._by_data.pop(id(old.data), None)
        return data

    def payload(self, data: object) -> bytes | None:
        """``{"data": data}`` as JSON, encoded once, if ``data`` is a shared event; else None."""
        found = self._by_data.get(id(data))
        if found is None or found.data is not data:
            return None
        if found.payload is None:
            found.payload = orjson.dumps({"data": data})
            self.encodes += 1
        return found.payload

    def clear(self) -> None:
        self._by_key.clear()
        self._by_data.clear()

    def __len__(self) -> int:
        return len(self._by_key)


SHARED = SharedEvents()
"""The process's shared events (the executor builds them, the WebSocket adapter sends them)."""


def encode_message(message: dict[str, Any]) -> str | None:
    """A protocol message whose payload is exactly ``{"data": <shared event>}``, as the same text
    ``orjson.dumps(message)`` would give, from the event's bytes; None for any other message."""
    payload = message.get("payload")
    if payload.__class__ is not dict or len(payload) != 1 or "data" not in payload:
        return None
    encoded = SHARED.payload(payload["data"])
    if encoded is None:
        return None
    parts = [b"{"]
    for index, (key, value) in enumerate(message.items()):
        if index:
            parts.append(b",")
        parts.append(orjson.dumps(key))
        parts.append(b":")
        parts.append(encoded if key == "payload" else orjson.dumps(value))
    parts.append(b"}")
    return b"".join(parts).decode()
