"""Subscription fan-out (issue 17, point 4): a change is built once per distinct selection, and the
same bytes go to every subscriber with that selection, whatever its protocol; only the operation's
``id`` differs. Counted with the process's shared events (``gateway/schema/fanout.py``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import orjson

from gateway.emulator.model import PROCESSING
from gateway.schema.fanout import SHARED
from tests.integration.test_subscriptions import (
    LEGACY,
    GqlWs,
    Live,
    expected_states,
    freeze,
    serve,  # noqa: F401  (the fixture)
    wait_until,
)
from tests.support.harness import Emulator

WIDE = "subscription($ids: [ID!]!) { transcodeSummaryUpdates(videoIds: $ids) { videoId transcodeStatus progress } }"
NARROW = "subscription($ids: [ID!]!) { transcodeSummaryUpdates(videoIds: $ids) { pct: progress videoId } }"


class Subscriber:
    """One connection with one operation: every raw frame of it, in order."""

    def __init__(self, client: GqlWs, op_id: str) -> None:
        self.client, self.op_id = client, op_id
        self.frames: list[str] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.client.ws:
            assert isinstance(raw, str), raw
            if json.loads(raw).get("id") == self.op_id:
                self.frames.append(raw)

    def payloads(self) -> list[Any]:
        return [json.loads(frame)["payload"] for frame in self.frames]

    async def close(self) -> None:
        await self.client.close()
        await asyncio.gather(self.task, return_exceptions=True)


def payload_text(frame: str) -> str:
    """The frame's text after its ``"payload":`` key: the part shared by subscribers."""
    head, _, payload = frame.partition(',"payload":')
    assert head.startswith('{"id":') or head.startswith('{"type":'), frame
    return payload


async def test_one_build_per_selection_and_change_and_the_same_bytes_for_each_subscriber(
    make_emulator: Callable[..., Emulator],
    serve: Callable[..., Live],  # noqa: F811
) -> None:
    emulator = freeze(make_emulator(catalogue_size=100), 100)
    [video] = emulator.ids(PROCESSING, 1)
    live = serve(emulator)
    wide = [Subscriber(await GqlWs.open(live.url), f"w{n}") for n in range(8)]
    wide.append(Subscriber(await GqlWs.open(live.url, protocol=LEGACY), "legacy"))
    narrow = [Subscriber(await GqlWs.open(live.url), f"n{n}") for n in range(4)]
    everyone = wide + narrow
    firsts = [wide[0], wide[-1], narrow[0]]  # each document's first, and graphql-ws's: the standard path
    for group in (firsts, [s for s in everyone if s not in firsts]):
        for subscriber in group:
            query = NARROW if subscriber in narrow else WIDE
            await subscriber.client.subscribe(subscriber.op_id, [video], query)
        await wait_until(lambda: all(len(s.frames) == 1 for s in group), "first events")  # noqa: B023
    await wait_until(lambda: live.poller.refcount(video) == len(everyone), "every subscriber watching")

    builds, encodes, planned, published = SHARED.builds, SHARED.encodes, SHARED.planned, SHARED.published
    before = expected_states(emulator, [video])[video]
    while expected_states(emulator, [video])[video][:2] == before[:2]:  # status or progress moves
        emulator.state.advance(30)
    await wait_until(lambda: all(len(s.frames) == 2 for s in everyone), "the change, once each")

    # one build and one encoding per selection, for 13 subscribers on two protocols
    assert SHARED.builds - builds == 2
    assert SHARED.encodes - encodes == 2
    # the first operation of each document and graphql-ws's run the standard path, where later
    # events skip graphql-core's collecting; the others are published (schema/published.py)
    assert SHARED.planned - planned == 3
    assert SHARED.published - published == len(everyone) - 3
    wide_bytes = {payload_text(s.frames[1]) for s in wide}
    narrow_bytes = {payload_text(s.frames[1]) for s in narrow}
    assert len(wide_bytes) == 1 and len(narrow_bytes) == 1 and wide_bytes != narrow_bytes
    # each frame is exactly what encoding the whole message would give: only the id differs
    for subscriber in everyone:
        kind = "data" if subscriber.op_id == "legacy" else "next"
        message: dict[str, Any] = json.loads(subscriber.frames[1])
        assert list(message) == (["type", "id", "payload"] if kind == "data" else ["id", "type", "payload"])
        assert message["type"] == kind and message["id"] == subscriber.op_id
        assert subscriber.frames[1] == orjson.dumps(message).decode()
    status, progress, _ = expected_states(emulator, [video])[video]
    assert {json.dumps(p["data"]) for s in wide for p in s.payloads()[1:]} == {
        json.dumps(
            {"transcodeSummaryUpdates": {"videoId": video, "transcodeStatus": status, "progress": progress}}
        )
    }
    assert [s.payloads()[1] for s in narrow] == [
        {"data": {"transcodeSummaryUpdates": {"pct": progress, "videoId": video}}}
    ] * len(narrow)

    for subscriber in everyone:
        await subscriber.close()
    await wait_until(lambda: live.poller.watched == 0, "every ID released")
