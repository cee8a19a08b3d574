"""An HTTP stream's operation slot: released once, however the stream ends or never starts."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from gateway.http.streams import HttpStreams, StreamRefused
from gateway.http.ws_slots import OperationSlots


class Owner:
    """Stands for the request (held weakly)."""


async def test_a_slot_is_released_once_by_the_stream_or_by_the_response_end() -> None:
    slots = OperationSlots(total=1, per_key=1)
    streams = HttpStreams(slots)
    owner = Owner()
    hold = streams.acquire("t", owner)
    with pytest.raises(StreamRefused):
        streams.acquire("t", Owner())
    hold.release()
    hold.release()
    streams.end(owner)  # the response's end: nothing left to free
    assert slots.open() == 0 and streams.open == 0
    never_started = streams.held(streams.acquire("t", owner), _results())
    streams.end(owner)  # gone before the first event: the generator never ran
    assert slots.open() == 0 and streams.open == 0
    await never_started.aclose()
    assert slots.open() == 0 and streams.open == 0


async def test_the_slot_is_released_even_when_closing_the_results_raises() -> None:
    slots = OperationSlots(total=1, per_key=1)
    streams = HttpStreams(slots)

    async def broken() -> AsyncGenerator[int, None]:
        try:
            yield 1
            yield 2
        finally:
            raise RuntimeError("closing failed")

    stream = streams.held(streams.acquire("t", None), broken())
    assert await anext(stream) == 1
    with pytest.raises(RuntimeError):
        await stream.aclose()
    assert slots.open() == 0 and streams.open == 0


async def _results() -> AsyncGenerator[int, None]:
    yield 1
