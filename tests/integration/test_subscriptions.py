"""Subscriptions end to end: real WebSockets (graphql-transport-ws and graphql-ws) against the gateway
served by uvicorn, polling the emulator over loopback HTTP.

The emulator's catalogue runs on a frozen clock here: emulated time moves only when a test advances
it, so every change a subscriber should see is known exactly.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from gateway.app import create_app
from gateway.emulator.catalogue import Catalogue
from gateway.emulator.model import ALL_SUCCEEDED, PARTIAL, PROCESSING
from gateway.loading.batcher import Batcher
from gateway.loading.parts import Parts
from gateway.loading.poller import Poller
from gateway.schema.types import TranscodeJobStatus, TranscodeStatus
from gateway.vod.models import parse_summary
from tests.support.clock import ManualClock
from tests.support.harness import Emulator, LogRecords, gateway_settings
from tests.support.server import ThreadedServer
from tests.support.waits import eventually_async

TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"
UPDATES = (
    "subscription($ids: [ID!]!) { transcodeSummaryUpdates(videoIds: $ids) "
    "{ videoId transcodeStatus progress jobs { transcodeJobStatus transcodeProgress } } }"
)
FINAL = {"COMPLETE_ALL_SUCC", "COMPLETE_ALL_FAIL", "COMPLETE_PARTIAL_SUCC"}

State = tuple[str, int, tuple[tuple[str, int], ...]]


class GqlWs:
    """A tiny GraphQL-over-WebSocket client speaking either protocol; legacy "data"/"start"/"stop"
    are translated to graphql-transport-ws's "next"/"subscribe"/"complete"."""

    def __init__(self, ws: ClientConnection, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol

    @classmethod
    async def open(
        cls,
        http_url: str,
        protocol: str = TRANSPORT,
        init: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        ack: bool = True,
    ) -> GqlWs:
        url = http_url.replace("http://", "ws://") + "/graphql"
        ws = await connect(
            url, subprotocols=[protocol], compression=None, proxy=None, additional_headers=headers
        )  # type: ignore[list-item]
        client = cls(ws, protocol)
        await client.send({"type": "connection_init", "payload": init or {}})
        if ack:
            message = await client.recv()
            assert message["type"] == "connection_ack", message
        return client

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def recv(self) -> dict[str, Any]:
        raw = await self.ws.recv()
        # browsers hand binary frames to graphql-ws as Blobs, which it can't parse: text only
        assert isinstance(raw, str), f"a binary WebSocket frame: {raw!r}"
        message: dict[str, Any] = json.loads(raw)
        if self.protocol == LEGACY and message["type"] == "data":
            message["type"] = "next"
        return message

    async def subscribe(self, op_id: str, ids: list[str], query: str = UPDATES) -> None:
        kind = "subscribe" if self.protocol == TRANSPORT else "start"
        await self.send({"id": op_id, "type": kind, "payload": {"query": query, "variables": {"ids": ids}}})

    async def stop(self, op_id: str) -> None:
        await self.send({"id": op_id, "type": "complete" if self.protocol == TRANSPORT else "stop"})

    async def until_done(self, op_id: str) -> list[dict[str, Any]]:
        """Every message of ``op_id`` up to and including its "complete" or "error"."""
        messages = []
        while True:
            message = await asyncio.wait_for(self.recv(), 30)
            if message.get("id") == op_id:
                messages.append(message)
                if message["type"] in ("complete", "error"):
                    return messages

    async def close(self) -> None:
        await self.ws.close()


def state_of_event(item: dict[str, Any]) -> State:
    jobs = tuple((j["transcodeJobStatus"], j["transcodeProgress"]) for j in item["jobs"])
    return item["transcodeStatus"], item["progress"], jobs


def expected_states(emulator: Emulator, ids: list[str]) -> dict[str, State]:
    """What the upstream says now, in the shape a subscriber receives it."""
    raw, _ = emulator.state.catalogue.summaries(ids)
    states: dict[str, State] = {}
    for summary in raw:
        record = parse_summary(summary)
        assert record is not None
        jobs = tuple((TranscodeJobStatus(j.status.value).name, j.progress) for j in record.jobs)
        states[record.video_id] = (TranscodeStatus(record.status.value).name, record.progress, jobs)
    return states


def freeze(emulator: Emulator, size: int) -> Emulator:
    """Give the emulator a catalogue whose time moves only through ``state.advance``."""
    emulator.state.catalogue = Catalogue.generate(size, 1, ManualClock())
    return emulator


async def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """A safety net against hanging, not a timing assertion."""
    await eventually_async(condition, timeout, what)


class Live:
    def __init__(self) -> None:
        self.parts: Parts | None = None
        self.url = ""

    def started(self, parts: Parts) -> None:
        self.parts = parts

    @property
    def poller(self) -> Poller:
        assert self.parts is not None
        return self.parts.poller

    @property
    def batcher(self) -> Batcher:
        assert self.parts is not None
        return self.parts.source


@pytest.fixture
def serve() -> Iterator[Callable[..., Live]]:
    servers: list[ThreadedServer] = []

    def start(emulator: Emulator, **env: str) -> Live:
        env.setdefault("GATEWAY_POLL_INTERVAL", "0.05")
        env.setdefault("GATEWAY_LOG_LEVEL", "WARNING")
        live = Live()
        server = ThreadedServer(create_app(gateway_settings(emulator.url, **env), on_started=live.started))
        server.start()
        servers.append(server)
        live.url = server.url
        return live

    yield start
    for server in servers:
        server.stop()


def metric(live: Live, name: str) -> float:
    """A sample without labels from the gateway's /metrics."""
    text = httpx.get(live.url + "/metrics").text
    [value] = [line.split()[1] for line in text.splitlines() if line.startswith(name + " ")]
    return float(value)


def dedup(states: list[State]) -> list[State]:
    out: list[State] = []
    for state in states:
        if not out or out[-1] != state:
            out.append(state)
    return out


async def test_200_subscribers_get_every_change_with_one_poll_per_video(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    emulator = freeze(make_emulator(catalogue_size=1000), 1000)
    ids = emulator.ids(PROCESSING, 50)
    live = serve(emulator)
    clients = [await GqlWs.open(live.url) for _ in range(200)]
    seen: list[dict[str, list[State]]] = [{} for _ in clients]
    completed = [False] * len(clients)

    async def read(n: int) -> None:
        while True:
            message = await clients[n].recv()
            if message["type"] == "complete":
                completed[n] = True
                return
            assert message["type"] == "next" and "errors" not in message["payload"], message
            item = message["payload"]["data"]["transcodeSummaryUpdates"]
            seen[n].setdefault(item["videoId"], []).append(state_of_event(item))

    readers = [asyncio.create_task(read(n)) for n in range(len(clients))]
    for client in clients:
        await client.subscribe("live", ids)
    timeline = [expected_states(emulator, ids)]
    await wait_until(lambda: all(len(s) == len(ids) for s in seen), "first events")
    assert all({i: v[0] for i, v in s.items()} == timeline[0] for s in seen)  # first events: the state now
    await wait_until(lambda: live.poller.watched == len(ids), "all IDs watched")
    assert all(live.poller.refcount(i) == 200 for i in ids)

    # count upstream calls from a round boundary on
    rounds = live.poller.rounds
    await wait_until(lambda: live.poller.rounds > rounds, "a poll round")
    emulator.state.reset()
    first_round, polled = live.poller.rounds, metric(live, "gateway_poll_round_ids_sum")

    while not all(state[0] in FINAL for state in timeline[-1].values()):
        emulator.state.advance(60)
        want = expected_states(emulator, ids)
        timeline.append(want)
        await wait_until(lambda: all(s[i][-1] == want[i] for s in seen for i in ids), "every change")  # noqa: B023
    await wait_until(lambda: all(completed), "every subscription completes")
    await asyncio.gather(*readers)

    for received in seen:  # every change, each once, in order, nothing else
        assert received == {i: dedup([t[i] for t in timeline]) for i in ids}
    events = sum(len(v) for s in seen for v in s.values())
    records = emulator.state.stats.records
    rounds = live.poller.rounds - first_round
    assert rounds >= len(timeline) - 1
    assert all(len(r.video_ids) <= 10 for r in records)
    assert len(records) <= 5 * (rounds + 1)  # ⌈50/10⌉ calls per round at most, whatever the subscribers
    assert sum(len(r.video_ids) for r in records) <= metric(live, "gateway_poll_round_ids_sum") - polled + 50
    assert live.poller.watched == 0 and live.batcher.background == 0
    print(
        f"\n200 subscribers x 50 videos: {len(timeline) - 1} steps, {events} events delivered, "
        f"{rounds} poll rounds, {len(records)} upstream calls "
        f"({len(records) / rounds:.2f} per round, {sum(len(r.video_ids) for r in records) / len(records):.1f} IDs per call)"
    )
    for client in clients:
        await client.close()


async def test_a_dropped_socket_or_an_unsubscribe_releases_the_ids(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    emulator = freeze(make_emulator(), 600)
    ids = emulator.ids(PROCESSING, 3)
    live = serve(emulator)
    dropped, kept = await GqlWs.open(live.url), await GqlWs.open(live.url)
    await dropped.subscribe("a", ids)
    await kept.subscribe("b", ids[:1])
    for _ in ids:
        assert (await dropped.recv())["type"] == "next"
    assert (await kept.recv())["type"] == "next"
    await wait_until(lambda: [live.poller.refcount(i) for i in ids] == [2, 1, 1], "watched")
    rounds = live.poller.rounds
    await wait_until(lambda: live.poller.rounds > rounds, "a poll round")

    assert metric(live, "gateway_subscribed_video_ids") == 3 and metric(live, "gateway_subscriptions") == 2
    assert metric(live, "gateway_poll_rounds_total") >= 1

    dropped.ws.transport.abort()  # no close frame, no "complete": the TCP connection just goes
    await wait_until(lambda: [live.poller.refcount(i) for i in ids] == [1, 0, 0], "released on drop")
    await kept.stop("b")
    await wait_until(lambda: live.poller.watched == 0, "released on complete")
    assert metric(live, "gateway_subscribed_video_ids") == 0 and metric(live, "gateway_subscriptions") == 0
    # once parked, the poller waits for a new watch, not for the clock: no round can start
    await wait_until(lambda: live.poller.parked, "the poller parked")
    rounds = live.poller.rounds
    emulator.state.reset()
    assert live.poller.parked and live.poller.rounds == rounds and emulator.state.stats.calls == 0
    await kept.close()
    await dropped.close()


async def test_queries_keep_priority_under_heavy_subscription_load(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    emulator = freeze(make_emulator(catalogue_size=2500), 2500)
    busy = emulator.ids(PROCESSING, 150) + emulator.ids(PARTIAL, 150)
    done = emulator.ids(ALL_SUCCEEDED, 24)
    live = serve(emulator, GATEWAY_POLL_INTERVAL="0.01", GATEWAY_RESPONSE_CACHE_TTL="0")
    client = await GqlWs.open(live.url)
    for n in range(3):
        await client.subscribe(f"s{n}", busy[n * 100 : (n + 1) * 100])
    reader = asyncio.create_task(client.until_done("never"))
    await wait_until(lambda: live.poller.watched == 300 and live.poller.rounds >= 1, "subscribed, polling")

    ahead = []
    async with httpx.AsyncClient(base_url=live.url) as http:
        for n in range(6):
            wanted = done[n * 4 : (n + 1) * 4]
            await wait_until(lambda: live.batcher.background > 100, "poll IDs queued")
            before = len(emulator.state.stats.records)
            response = await http.post(
                "/graphql",
                json={
                    "query": "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId transcodeStatus } }",
                    "variables": {"ids": wanted},
                },
            )
            body = response.json()
            assert "errors" not in body
            assert [i["videoId"] for i in body["data"]["transcodeSummaries"]] == wanted
            after = emulator.state.stats.records[before:]
            carrying = [k for k, r in enumerate(after) if set(wanted) & set(r.video_ids)]
            assert len(carrying) == 1 and set(wanted) <= set(after[carrying[0]].video_ids)  # one call
            ahead.append(carrying[0])  # calls that went out between the query's arrival and its call
    assert max(ahead) <= 2, ahead  # >100 poll IDs were waiting, yet the query took the next slot
    rounds = live.poller.rounds
    await wait_until(lambda: live.poller.rounds > rounds, "polling goes on")
    assert emulator.state.stats.throttled == 0
    print(f"\nquery calls preceded by {ahead} poll calls while >100 poll IDs were queued")
    reader.cancel()
    await client.close()


async def test_legacy_graphql_ws_protocol(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    emulator = freeze(make_emulator(), 600)
    ids = [*emulator.ids(PROCESSING, 1), *emulator.ids(ALL_SUCCEEDED, 1)]
    live = serve(emulator)
    client = await GqlWs.open(live.url, LEGACY)
    await client.subscribe("1", ids)
    first = [await client.recv() for _ in ids]
    assert [m["payload"]["data"]["transcodeSummaryUpdates"]["videoId"] for m in first] == ids
    assert first[1]["payload"]["data"]["transcodeSummaryUpdates"]["transcodeStatus"] == "COMPLETE_ALL_SUCC"
    emulator.state.advance(400)  # every job ends within 300 s
    rest = await client.until_done("1")
    assert rest[-1]["type"] == "complete"
    assert rest[-2]["payload"]["data"]["transcodeSummaryUpdates"]["transcodeStatus"] in FINAL
    await client.close()


async def test_nonexistent_id_gets_its_error_and_the_others_go_on(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    emulator = freeze(make_emulator(), 600)
    processing, missing = emulator.ids(PROCESSING)[0], emulator.missing_id
    live = serve(emulator)
    client = await GqlWs.open(live.url)
    await client.subscribe("1", [missing, processing])
    gone, first = await client.recv(), await client.recv()
    assert gone["type"] == "next" and gone["payload"]["data"] is None
    [error] = gone["payload"]["errors"]
    assert (
        error["extensions"] == {"code": "VIDEO_NOT_FOUND", "videoId": missing} and missing in error["message"]
    )
    assert first["payload"]["data"]["transcodeSummaryUpdates"]["videoId"] == processing
    await wait_until(lambda: live.poller.watched == 1, "only the existing video is polled")
    emulator.state.advance(400)
    rest = await client.until_done("1")
    assert rest[-1]["type"] == "complete"
    assert rest[-2]["payload"]["data"]["transcodeSummaryUpdates"]["transcodeStatus"] in FINAL
    await client.close()


async def test_a_finished_video_s_first_event_is_final_and_the_stream_completes(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    emulator = freeze(make_emulator(), 600)
    done, running = emulator.ids(ALL_SUCCEEDED)[0], emulator.ids(PROCESSING)[0]
    live = serve(emulator, GATEWAY_CACHE_TTL_ACTIVE="0")
    client = await GqlWs.open(live.url)
    await client.subscribe("done", [done])
    messages = await client.until_done("done")
    assert [m["type"] for m in messages] == ["next", "complete"]
    assert messages[0]["payload"]["data"]["transcodeSummaryUpdates"]["transcodeStatus"] == "COMPLETE_ALL_SUCC"
    assert emulator.state.stats.calls == 1 and live.poller.rounds == 0

    # a video another subscriber is watching completes; a newcomer's first event is the final state
    await client.subscribe("watching", [running])
    assert (await client.recv())["payload"]["data"]["transcodeSummaryUpdates"][
        "transcodeStatus"
    ] == "PROCESSING"
    await wait_until(lambda: live.poller.refcount(running) == 1, "watched")
    emulator.state.advance(400)
    newcomer = await GqlWs.open(live.url)
    await newcomer.subscribe("late", [running])
    late = await newcomer.until_done("late")
    assert [m["type"] for m in late] == ["next", "complete"]
    assert late[0]["payload"]["data"]["transcodeSummaryUpdates"]["transcodeStatus"] in FINAL
    await client.until_done("watching")
    await newcomer.close()
    await client.close()


async def test_a_stale_cached_summary_never_starts_a_stream(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    """The race: the cache still holds a video's Processing summary when it completes upstream.
    A query may answer from that cache (up to GATEWAY_CACHE_TTL_ACTIVE stale); a new subscription's
    first event must be the final state, or a progress bar would wait for a change already past."""
    emulator = freeze(make_emulator(), 600)
    running = emulator.ids(PROCESSING)[0]
    live = serve(emulator, GATEWAY_CACHE_TTL_ACTIVE="600", GATEWAY_POLL_INTERVAL="600")
    client = await GqlWs.open(live.url)
    await client.subscribe("early", [running])
    first = (await client.recv())["payload"]["data"]["transcodeSummaryUpdates"]
    assert first["transcodeStatus"] == "PROCESSING"  # now cached for 600 s
    # the poller's first round (at once, for a new watch) must be over: else it could see the jump
    await wait_until(lambda: live.poller.rounds == 1 and live.batcher.background == 0, "the first poll round")
    emulator.state.advance(400)  # it completes upstream; no poll round comes for 600 s
    async with httpx.AsyncClient(base_url=live.url) as http:
        query = f'{{ transcodeSummary(videoId: "{running}") {{ transcodeStatus }} }}'
        cached = (await http.post("/graphql", json={"query": query})).json()
    assert cached["data"]["transcodeSummary"]["transcodeStatus"] == "PROCESSING"  # the cache, as documented
    calls = emulator.state.stats.calls

    newcomer = await GqlWs.open(live.url)
    await newcomer.subscribe("late", [running])
    late = await newcomer.until_done("late")
    assert [m["type"] for m in late] == ["next", "complete"]
    assert late[0]["payload"]["data"]["transcodeSummaryUpdates"]["transcodeStatus"] in FINAL
    assert emulator.state.stats.calls == calls + 1  # one fresh lookup, not the cache
    await newcomer.close()
    await client.close()


async def test_bad_input_is_refused_before_any_upstream_call(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    emulator = freeze(make_emulator(), 600)
    ids = emulator.ids(PROCESSING, 4)
    live = serve(emulator, GATEWAY_SUBSCRIPTION_MAX_IDS="3")
    for protocol in (TRANSPORT, LEGACY):
        client = await GqlWs.open(live.url, protocol)
        await client.subscribe("many", ids)
        [refused] = await client.until_done("many")
        assert refused["type"] == "error"
        error = refused["payload"][0] if protocol == TRANSPORT else refused["payload"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "videoIds", "limit": 3}
        assert "at most 3 per subscription" in error["message"]
        await client.subscribe("bad", [ids[0], "not an id!"])
        [refused] = await client.until_done("bad")
        error = refused["payload"][0] if protocol == TRANSPORT else refused["payload"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and "not an id!" in error["message"]
        await client.close()
    assert emulator.state.stats.calls == 0 and live.poller.watched == 0


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_subscriptions_per_connection_limit(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live], protocol: str
) -> None:
    emulator = freeze(make_emulator(), 600)
    ids = emulator.ids(PROCESSING, 3)
    live = serve(emulator, GATEWAY_SUBSCRIPTIONS_PER_CONNECTION="2")
    client = await GqlWs.open(live.url, protocol)
    for n in range(2):
        await client.subscribe(f"s{n}", [ids[n]])
        assert (await client.recv())["type"] == "next"
    await client.subscribe("s2", [ids[2]])
    refused = await client.recv()
    assert refused["type"] == "error" and refused["id"] == "s2"
    error = refused["payload"][0] if protocol == TRANSPORT else refused["payload"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": 2}
    assert "at most 2" in error["message"] and "GATEWAY_SUBSCRIPTIONS_PER_CONNECTION" in error["message"]
    await client.stop("s0")
    await wait_until(lambda: live.poller.refcount(ids[0]) == 0, "s0 released")
    await client.subscribe("s2", [ids[2]])
    message = await client.recv()
    while message.get("id") != "s2":  # legacy graphql-ws says "complete" for the stopped one
        message = await client.recv()
    assert message["type"] == "next"
    await client.close()


async def test_api_key_in_connection_init_when_headers_cannot_be_sent(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    emulator = freeze(make_emulator(), 600)
    done = emulator.ids(ALL_SUCCEEDED)[0]
    live = serve(emulator, GATEWAY_API_KEYS="k-one,k-two")

    browser = await GqlWs.open(live.url, init={"Authorization": "Bearer k-two"})
    await browser.subscribe("1", [done])
    assert [m["type"] for m in await browser.until_done("1")] == ["next", "complete"]
    await browser.close()
    header = await GqlWs.open(live.url, headers={"Authorization": "Bearer k-one"})  # no payload needed
    await header.close()

    for init in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "k-one"}):
        refused = await GqlWs.open(live.url, init=init, ack=False)
        with pytest.raises(ConnectionClosed) as closed:
            await refused.recv()
        assert closed.value.rcvd is not None and (closed.value.rcvd.code, closed.value.rcvd.reason) == (
            4403,
            "Forbidden",
        )
        await refused.close()
    # without connection_init, a subscribe is refused before it runs
    sneaky = await GqlWs.open(live.url, ack=False)
    await sneaky.ws.send(
        json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": UPDATES, "variables": {"ids": [done]}}}
        )
    )
    # (connection_init was sent by open(); it was refused, so the socket is closed either way)
    with pytest.raises(ConnectionClosed):
        await sneaky.recv()
    await sneaky.close()

    legacy = await GqlWs.open(live.url, LEGACY, init={"Authorization": "Bearer nope"}, ack=False)
    rejected = await legacy.recv()
    assert rejected["type"] == "connection_error"
    assert rejected["payload"]["extensions"] == {"code": "UNAUTHENTICATED"}
    await legacy.close()
    assert emulator.state.stats.calls == 1


async def test_cross_origin_pages_need_their_origin_in_cors_origins(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    """Browsers apply no CORS to WebSockets: the gateway checks Origin itself (cross-site hijacking)."""
    emulator = freeze(make_emulator(), 600)
    live = serve(emulator, GATEWAY_CORS_ORIGINS="https://app.example.com")
    allowed = await GqlWs.open(live.url, headers={"Origin": "https://app.example.com"})
    await allowed.close()
    same = await GqlWs.open(live.url, headers={"Origin": live.url})
    await same.close()
    with pytest.raises(InvalidStatus) as refused:
        await GqlWs.open(live.url, headers={"Origin": "https://evil.example.net"})
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
@pytest.mark.parametrize("frame", ["42", "[]", '"connection_init"', "null"])
async def test_a_frame_that_isnt_an_object_gets_the_protocols_answer_quietly(
    make_emulator: Callable[..., Emulator],
    serve: Callable[..., Live],
    gateway_logs: LogRecords,
    protocol: str,
    frame: str,
) -> None:
    """graphql-transport-ws closes with 4400; graphql-ws (which has no such code) answers with an
    error message and goes on."""
    live = serve(freeze(make_emulator(), 600))
    client = await GqlWs.open(live.url, protocol, ack=False)
    await client.ws.send(frame)
    if protocol == LEGACY:
        messages = [await client.recv(), await client.recv()]  # the ack, and the error, in either order
        assert sorted(m["type"] for m in messages) == ["connection_ack", "error"]
        await client.close()
    else:
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await client.recv()  # the ack may come first
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    assert gateway_logs.errors() == []
