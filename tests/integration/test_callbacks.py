"""``POST /vod/callback`` on a running gateway (in process, the emulator over loopback): a signed
event makes a subscriber see completion at once for one upstream call; anything else is refused
with no upstream call; the answers built from the video leave the response cache."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from gateway.app import create_app
from gateway.emulator.catalogue import Catalogue
from gateway.loading.parts import Parts
from gateway.vod.callbacks import callback_signature
from tests.support.clock import ManualClock
from tests.support.harness import Emulator, LogRecords, gateway_settings
from tests.support.server import ThreadedServer

KEY = "callback-test-api-key"
AUTH_KEY = "vod-callback-auth-key-3f9a"
PREVIOUS = "vod-callback-auth-key-old"
QUERY = "query($v: ID!) { transcodeSummary(videoId: $v) { videoId transcodeStatus } }"
UPDATES = (
    "subscription($v: [ID!]!) { transcodeSummaryUpdates(videoIds: $v) { videoId transcodeStatus progress } }"
)
FINAL = {"COMPLETE_ALL_SUCC", "COMPLETE_ALL_FAIL", "COMPLETE_PARTIAL_SUCC"}


class Served:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.parts: Parts | None = None
        self.url = ""
        self.callback_url = ""

    def started(self, parts: Parts) -> None:
        self.parts = parts

    @property
    def calls(self) -> int:
        return self.emulator.state.stats.calls

    def post(
        self, body: object, timestamp: int | None = None, key: str = AUTH_KEY, **headers: str
    ) -> httpx.Response:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signed = {"x-vod-timestamp": ts, "x-vod-signature": callback_signature(self.callback_url, ts, key)}
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.post(self.url + "/vod/callback", content=content, headers={**signed, **headers})

    def query(self, video_id: str) -> dict[str, Any]:
        body: dict[str, Any] = httpx.post(
            self.url + "/graphql",
            json={"query": QUERY, "variables": {"v": video_id}},
            headers={"authorization": f"Bearer {KEY}"},
        ).json()
        return body


async def until(condition: Callable[[], bool], what: str) -> None:
    """A safety net against hanging (the server runs on its own thread), not a timing assertion."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        await asyncio.sleep(0.01)


@pytest.fixture
def served(emulator: Emulator) -> Iterator[Served]:
    emulator.state.catalogue = Catalogue.generate(600, 1, ManualClock())  # time moves only when told
    served = Served(emulator)
    settings = gateway_settings(
        emulator.url,
        GATEWAY_API_KEYS=KEY,
        GATEWAY_POLL_INTERVAL="600",
        GATEWAY_CACHE_TTL_ACTIVE="600",
        GATEWAY_RESPONSE_CACHE_TTL="60",
        VOD_CALLBACK_AUTH_KEY=AUTH_KEY,
        VOD_CALLBACK_AUTH_KEY_PREVIOUS=PREVIOUS,
        VOD_CALLBACK_URL="https://gateway.example.com/vod/callback",
    )
    served.callback_url = "https://gateway.example.com/vod/callback"  # as configured in VOD, not as reached
    server = ThreadedServer(create_app(settings, on_started=served.started))
    server.start()
    served.url = server.url
    yield served
    server.stop()


def processing(emulator: Emulator) -> str:
    return emulator.ids("Processing")[0]


async def test_a_signed_callback_brings_completion_to_a_subscriber_for_one_call(served: Served) -> None:
    video = processing(served.emulator)
    ws_url = served.url.replace("http://", "ws://") + "/graphql"
    async with connect(ws_url, subprotocols=["graphql-transport-ws"], compression=None) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {KEY}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": UPDATES, "variables": {"v": [video]}}}
            )
        )
        first = json.loads(await ws.recv())
        assert first["payload"]["data"]["transcodeSummaryUpdates"]["transcodeStatus"] == "PROCESSING"
        assert served.parts is not None
        poller = served.parts.poller
        await until(
            lambda: poller.rounds == 1 and served.parts is not None and served.parts.source.pending == 0,
            "the first poll round",
        )
        calls = served.calls

        served.emulator.state.advance(400)  # it completes upstream; no poll round comes for 600 s
        event = {
            "EventTime": "2026-12-02T06:00:00Z",
            "EventType": "TranscodeComplete",
            "VideoId": video,
            "Status": "success",
            "StreamInfos": [],
        }
        answer = served.post(event)  # no API key: a VOD server has none
        assert answer.status_code == 200 and answer.json()["status"] == "ok"

        done = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert done["type"] == "next"
        assert done["payload"]["data"]["transcodeSummaryUpdates"]["transcodeStatus"] in FINAL
        assert json.loads(await asyncio.wait_for(ws.recv(), 30)) == {"id": "1", "type": "complete"}
    assert served.calls == calls + 1  # one refetch: the poller is still asleep
    assert poller.rounds == 1


def test_anything_but_a_signed_fresh_event_is_refused_without_an_upstream_call(
    served: Served, gateway_logs: LogRecords
) -> None:
    video = processing(served.emulator)
    event = {"EventType": "TranscodeComplete", "VideoId": video, "Status": "success"}
    calls = served.calls
    unsigned = httpx.post(served.url + "/vod/callback", json=event)
    assert unsigned.status_code == 401
    assert served.post(event, key="not-the-key").status_code == 403
    assert served.post(event, timestamp=int(time.time()) - 301).status_code == 403
    assert served.post(event, **{"x-vod-timestamp": "yesterday"}).status_code == 401
    assert served.post([event]).status_code == 400
    assert served.post(b"{not json").status_code == 400
    assert served.post({**event, "VideoId": "../etc/passwd"}).status_code == 400
    assert served.post(b"{" + b" " * 40_000 + b"}").status_code == 413
    assert httpx.get(served.url + "/vod/callback").status_code == 405
    ignored = served.post({"EventType": "FileUploadComplete", "VideoId": video})
    assert (ignored.status_code, ignored.json()["message"]) == (200, "ignored: not a transcoding event")
    assert served.post(event, key=PREVIOUS).status_code == 200  # a rotation: the previous key still signs
    refused = [r for r in gateway_logs.records if r.getMessage() == "vod callback refused"]
    assert len(refused) == 8  # one line each
    text = " ".join(str(getattr(r, "fields", "")) + r.getMessage() for r in gateway_logs.records)
    assert AUTH_KEY not in text and PREVIOUS not in text
    metrics = httpx.get(served.url + "/metrics").text
    assert 'gateway_vod_callbacks_total{result="forged"} 1.0' in metrics
    assert 'gateway_vod_callbacks_total{result="accepted"} 1.0' in metrics
    assert served.parts is not None
    refetcher = served.parts.refetcher
    asyncio.run(until(lambda: refetcher.idle, "the accepted event's invalidation"))
    assert served.calls == calls and refetcher.lookups == 0  # nobody watches it: no call at all


async def test_the_answers_built_from_the_video_leave_the_response_cache(served: Served) -> None:
    video = processing(served.emulator)
    assert served.query(video)["data"]["transcodeSummary"]["transcodeStatus"] == "PROCESSING"
    calls = served.calls
    assert served.query(video)["data"]["transcodeSummary"]["transcodeStatus"] == "PROCESSING"  # cached
    served.emulator.state.advance(400)
    assert served.query(video)["data"]["transcodeSummary"]["transcodeStatus"] == "PROCESSING"  # still cached
    assert served.calls == calls
    assert (
        served.post(
            {"EventType": "StreamTranscodeComplete", "VideoId": video, "Status": "success"}
        ).status_code
        == 200
    )
    assert served.parts is not None
    refetcher = served.parts.refetcher
    await until(lambda: refetcher.idle and refetcher.triggers == 1, "the invalidation")
    assert refetcher.lookups == 0  # nobody subscribes to it: dropped, not looked up
    assert served.query(video)["data"]["transcodeSummary"]["transcodeStatus"] in FINAL  # at once, not in 60 s
    assert served.calls == calls + 1  # the query's own lookup
