"""Two replicas on one Redis: a callback received by one reaches the other's subscribers (pub/sub),
and one refetch serves both through the shared summary cache."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
from websockets.asyncio.client import ClientConnection, connect

from gateway.app import create_app
from gateway.emulator.catalogue import Catalogue
from gateway.loading.parts import Parts
from gateway.vod.callbacks import callback_signature
from tests.support.clock import ManualClock
from tests.support.harness import Emulator, gateway_settings
from tests.support.server import ThreadedServer


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not redis_available(), reason="no Redis at 127.0.0.1:6379 (CI starts one)")

URL = "https://gateway.example.com/vod/callback"
REDIS_URL = "redis://127.0.0.1:6379/7"
AUTH_KEY = "replica-callback-key-77"
UPDATES = "subscription($v: [ID!]!) { transcodeSummaryUpdates(videoIds: $v) { videoId transcodeStatus } }"
FINAL = {"COMPLETE_ALL_SUCC", "COMPLETE_ALL_FAIL", "COMPLETE_PARTIAL_SUCC"}


class Replica:
    def __init__(self) -> None:
        self.parts: Parts | None = None
        self.url = ""

    def started(self, parts: Parts) -> None:
        self.parts = parts

    @property
    def running(self) -> Parts:
        assert self.parts is not None
        return self.parts


async def until(condition: Callable[[], bool], what: str) -> None:
    """A bound against hanging (the replicas run on their own threads), not a timing assertion."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        await asyncio.sleep(0.01)


@pytest.fixture
def replicas(emulator: Emulator) -> Iterator[tuple[Replica, Replica]]:
    emulator.state.catalogue = Catalogue.generate(600, 1, ManualClock())
    # a database of its own, emptied: the same seeded videos finished in an earlier run stay cached
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        "GATEWAY_REDIS_URL": REDIS_URL,
        "GATEWAY_REPLICAS": "2",
        "GATEWAY_POLL_INTERVAL": "600",
        "GATEWAY_CACHE_TTL_ACTIVE": "600",
        "VOD_CALLBACK_AUTH_KEY": AUTH_KEY,
        "VOD_CALLBACK_URL": URL,
    }
    pair, servers = (Replica(), Replica()), []
    for replica in pair:
        server = ThreadedServer(create_app(gateway_settings(emulator.url, **env), on_started=replica.started))
        server.start()
        servers.append(server)
        replica.url = server.url
    yield pair
    for server in servers:
        server.stop()


async def subscribe(replica: Replica, video: str) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await connect(
        replica.url.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"]
    )  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(
        json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": UPDATES, "variables": {"v": [video]}}}
        )
    )
    first = json.loads(await ws.recv())
    poller = replica.running.poller
    await until(lambda: poller.rounds == 1 and replica.running.source.pending == 0, "the first poll round")
    return ws, first


def callback(replica: Replica, video: str) -> None:
    ts = str(int(time.time()))
    headers = {"x-vod-timestamp": ts, "x-vod-signature": callback_signature(URL, ts, AUTH_KEY)}
    event = {"EventType": "TranscodeComplete", "VideoId": video, "Status": "success"}
    assert httpx.post(replica.url + "/vod/callback", json=event, headers=headers).status_code == 200


async def final_then_complete(ws: ClientConnection) -> None:
    done = json.loads(await asyncio.wait_for(ws.recv(), 30))
    assert done["payload"]["data"]["transcodeSummaryUpdates"]["transcodeStatus"] in FINAL
    assert json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "complete"
    await ws.close()


async def wait_subscribed(*replicas: Replica) -> None:
    for replica in replicas:
        fanout = replica.running.fanout
        assert fanout is not None
        await until(fanout.subscribed.is_set, "the pub/sub subscription")


async def test_a_callback_to_one_replica_reaches_the_others_subscriber(
    emulator: Emulator, replicas: tuple[Replica, Replica]
) -> None:
    receiver, other = replicas
    await wait_subscribed(receiver, other)
    video = emulator.ids("Processing")[0]
    ws, first = await subscribe(other, video)
    assert first["payload"]["data"]["transcodeSummaryUpdates"]["transcodeStatus"] == "PROCESSING"
    calls = emulator.state.stats.calls
    emulator.state.advance(400)
    callback(receiver, video)  # the replica that gets it watches nothing: it drops, and tells
    await final_then_complete(ws)
    assert emulator.state.stats.calls == calls + 1  # the watching replica's one lookup
    assert other.running.poller.rounds == 1


async def test_one_refetch_serves_the_subscribers_of_both(
    emulator: Emulator, replicas: tuple[Replica, Replica]
) -> None:
    receiver, other = replicas
    await wait_subscribed(receiver, other)
    video = emulator.ids("Processing", 2)[1]
    ws_a, _ = await subscribe(receiver, video)
    ws_b, _ = await subscribe(other, video)
    calls = emulator.state.stats.calls
    emulator.state.advance(400)
    callback(receiver, video)
    await final_then_complete(ws_a)
    await final_then_complete(ws_b)
    assert emulator.state.stats.calls == calls + 1  # refetched once; the other read the shared cache
    assert other.running.refetcher.lookups == 0
