"""Open WebSocket operations per key and per process (``gateway/http/ws_slots.py``)."""

from __future__ import annotations

import asyncio

from gateway.http.ws_slots import OperationSlots


def test_the_per_key_cap_comes_first_then_the_total() -> None:
    slots = OperationSlots(total=3, per_key=2)
    assert slots.acquire("a") is None and slots.acquire("a") is None
    refusal = slots.acquire("a")
    assert refusal is not None and refusal["extensions"] == {"code": "RATE_LIMITED", "limit": 2}
    assert slots.acquire("b") is None
    refusal = slots.acquire("c")
    assert refusal is not None and "GATEWAY_SUBSCRIPTIONS_MAX" in refusal["message"]
    slots.release("a")
    assert slots.open() == 2 and slots.open("a") == 1 and slots.acquire("c") is None


async def test_a_slot_is_freed_when_its_task_ends_however_it_ends() -> None:
    slots = OperationSlots(total=10, per_key=10)
    for _ in range(3):
        assert slots.acquire("a") is None
    done = asyncio.get_running_loop().create_future()
    finishing = asyncio.ensure_future(done)
    cancelled = asyncio.ensure_future(asyncio.sleep(60))
    slots.hold("a", finishing)
    slots.hold("a", cancelled)
    slots.hold("a", None)  # never started: freed at once
    assert slots.open("a") == 2
    done.set_result(None)
    cancelled.cancel()
    await asyncio.gather(finishing, cancelled, return_exceptions=True)
    await asyncio.sleep(0)
    assert slots.open() == 0
