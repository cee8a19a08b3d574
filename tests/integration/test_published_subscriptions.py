"""Published subscriptions (``schema/published.py``, ``http/ws_published.py``): once the standard
path has run a plain ``transcodeSummaryUpdates`` document, the next operations of that text over
graphql-transport-ws skip Strawberry's and graphql-core's per-event pipeline, and send the very
frames the standard path sends: aliases, fragments, ``__typename``, enums, custom scalars, the
error event of a video that doesn't exist, the final event and ``complete``. What they can't
answer exactly goes the standard way: bad input gets the standard error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from gateway.emulator.model import ALL_SUCCEEDED, PROCESSING
from gateway.schema.fanout import SHARED
from tests.integration.test_subscription_fanout import Subscriber
from tests.integration.test_subscriptions import (
    GqlWs,
    Live,
    freeze,
    serve,  # noqa: F401  (the fixture)
    wait_until,
)
from tests.support.harness import Emulator

DOCUMENT = """
subscription Watch($ids: [ID!]!) {
  live: transcodeSummaryUpdates(videoIds: $ids) {
    __typename
    id: videoId
    status: transcodeStatus
    ...Times
    jobs { ... on TranscodeJob { transcodeJobStatus pct: transcodeProgress fileSize definition } }
  }
}
fragment Times on TranscodeSummary { progress creationTime completeTime }
"""


class Frames(Subscriber):
    """One connection's raw frames of one operation, as they came, and whether it has ended."""

    def done(self) -> bool:
        return bool(self.frames) and json.loads(self.frames[-1])["type"] in ("complete", "error")

    def as_if(self, op_id: str) -> list[str]:
        """The frames with ``op_id`` for the operation's id (both ids are one letter)."""
        return [f.replace(f'{{"id":"{self.op_id}"', f'{{"id":"{op_id}"', 1) for f in self.frames]


async def _subscribe(live: Live, op_id: str, ids: list[str], variables: Any = None) -> Frames:
    client = await GqlWs.open(live.url)
    frames = Frames(client, op_id)
    payload = {"query": DOCUMENT, "variables": {"ids": ids} if variables is None else variables}
    await client.send({"id": op_id, "type": "subscribe", "payload": payload})
    return frames


async def test_a_published_subscription_sends_the_standard_paths_frames_to_the_end(
    make_emulator: Callable[..., Emulator],
    serve: Callable[..., Live],  # noqa: F811
) -> None:
    emulator = freeze(make_emulator(), 600)
    running, done, missing = emulator.ids(PROCESSING)[0], emulator.ids(ALL_SUCCEEDED)[0], emulator.missing_id
    live = serve(emulator)
    ids = [missing, running, done]
    standard = await _subscribe(live, "a", ids)
    await wait_until(lambda: len(standard.frames) == 3, "the standard path's first events")
    published_before = SHARED.published
    published = await _subscribe(live, "b", ids)
    await wait_until(lambda: len(published.frames) == 3, "the published first events")
    assert SHARED.published - published_before == 2  # the two records; the error event executed
    assert published.as_if("a") == standard.frames

    await wait_until(lambda: live.poller.refcount(running) == 2, "both watching")
    emulator.state.advance(30)
    await wait_until(lambda: len(standard.frames) == 4 and len(published.frames) == 4, "the change")
    emulator.state.advance(400)
    await wait_until(lambda: standard.done() and published.done(), "both complete")
    assert published.as_if("a") == standard.frames
    messages = [json.loads(f) for f in published.frames]
    assert [m["type"] for m in messages] == ["next"] * (len(messages) - 1) + ["complete"]
    error = messages[0]["payload"]
    assert error["data"] is None and error["errors"][0]["extensions"]["code"] == "VIDEO_NOT_FOUND"
    assert messages[1]["payload"]["data"]["live"]["__typename"] == "TranscodeSummary"
    for frames in (standard, published):
        await frames.client.close()
    await wait_until(lambda: live.poller.watched == 0 and live.poller.watches == 0, "released")


async def test_what_it_cannot_answer_exactly_goes_the_standard_way(
    make_emulator: Callable[..., Emulator],
    serve: Callable[..., Live],  # noqa: F811
) -> None:
    emulator = freeze(make_emulator(), 600)
    running = emulator.ids(PROCESSING)[0]
    live = serve(emulator)
    first = await _subscribe(live, "a", [running])
    await wait_until(lambda: len(first.frames) == 1, "learned")
    published = SHARED.published
    refused = {
        "b": {"ids": ["not an id!"]},
        "c": {"ids": "a string"},
        "d": {"ids": [running] * 101 + ["x"]},
        "e": {"ids": []},
    }
    answers = [await _subscribe(live, op_id, [], variables) for op_id, variables in refused.items()]
    await wait_until(lambda: all(a.done() for a in answers), "every refusal")
    for answer in answers:
        [message] = [json.loads(f) for f in answer.frames]
        assert message["type"] in ("error", "next"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"), errors
    assert SHARED.published == published
    # and the stream itself goes on
    emulator.state.advance(30)
    await wait_until(lambda: len(first.frames) == 2, "the change")
    for frames in (first, *answers):
        await frames.client.close()


async def test_a_published_operation_ends_on_the_clients_complete_or_a_dropped_socket(
    make_emulator: Callable[..., Emulator],
    serve: Callable[..., Live],  # noqa: F811
) -> None:
    emulator = freeze(make_emulator(), 600)
    first_video, second_video = emulator.ids(PROCESSING, 2)
    live = serve(emulator)
    learned = await _subscribe(live, "a", [first_video])
    await wait_until(lambda: len(learned.frames) == 1, "learned")
    published = SHARED.published
    both = await _subscribe(live, "b", [first_video, second_video])
    await wait_until(lambda: len(both.frames) == 2, "the published first events")
    assert SHARED.published - published == 2
    await wait_until(lambda: live.poller.refcount(first_video) == 2 and live.poller.watches == 2, "watching")

    await both.client.send({"id": "b", "type": "complete"})  # the client's complete
    await wait_until(lambda: live.poller.refcount(second_video) == 0, "released on complete")
    assert live.poller.refcount(first_video) == 1 and live.poller.watches == 1
    again = await _subscribe(live, "c", [second_video])
    await wait_until(lambda: len(again.frames) == 1 and live.poller.refcount(second_video) == 1, "watching")
    await again.client.close()
    await wait_until(lambda: live.poller.refcount(second_video) == 0, "released on a closed socket")
    emulator.state.advance(30)  # the first one goes on
    await wait_until(lambda: len(learned.frames) == 2, "the change")
    assert len(both.frames) == 2  # nothing after its complete
    for frames in (learned, both):
        await frames.client.close()
    await wait_until(lambda: live.poller.watches == 0, "every operation ended")
