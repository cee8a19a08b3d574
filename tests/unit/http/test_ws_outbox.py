"""Outbox: what is put goes out in order, by one task; a newer item for a key still waiting
replaces it in its place; made items are awaited in their turn (None: nothing sent); dropped keys
never go out; a disconnect ends the sender quietly."""

from __future__ import annotations

import asyncio

from strawberry.http.exceptions import WebSocketDisconnected

from gateway.http.ws_outbox import Outbox
from tests.support.clock import ManualClock


def test_in_order_latest_per_key_and_made_items_in_their_turn() -> None:
    async def run() -> tuple[list[str], int]:
        sent: list[str] = []
        release = asyncio.Event()

        async def send(text: str) -> None:
            sent.append(text)
            if text == "a1":
                await release.wait()  # a slow socket: what comes meanwhile waits

        async def made() -> str:
            return "made"

        async def nothing() -> None:
            return None

        outbox = Outbox(send)
        outbox.put("a", "a1")
        await ManualClock().idle()
        outbox.put("b", "b1")
        outbox.put("c", made)
        outbox.put("b", "b2")  # replaces b1, in b1's place
        outbox.put("d", nothing)
        outbox.put("e", "e1")
        release.set()
        await ManualClock().idle()
        outbox.close()
        return sent, outbox.sent

    sent, count = asyncio.run(run())
    assert sent == ["a1", "b2", "made", "e1"] and count == 4


def test_dropped_keys_never_go_out_and_a_disconnect_ends_it_quietly() -> None:
    async def run() -> list[str]:
        sent: list[str] = []

        async def send(text: str) -> None:
            if text == "gone":
                raise WebSocketDisconnected
            sent.append(text)

        outbox = Outbox(send)
        outbox.put(("op1", "v"), "one")
        outbox.put(("op2", "v"), "two")
        outbox.drop(lambda key: key[0] != "op1")  # type: ignore[index]
        await ManualClock().idle()
        outbox.put("x", "gone")
        outbox.put("y", "after")
        await ManualClock().idle()
        return sent

    assert asyncio.run(run()) == ["two"]
