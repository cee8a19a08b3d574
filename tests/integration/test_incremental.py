"""Incremental delivery over real HTTP: ``@stream`` on ``transcodeSummaries`` and ``videos``, ``@defer``
on ``Video.transcodeSummary``, over multipart/mixed (Apollo's deferSpec Accept) and SSE.

The gateway's upstream transport is gated: a call holding any of the held IDs waits until the test
lets it go. So "the first items go out when their own call returns" is seen as it is, without time:
the first payload arrives while the second call is still held."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.emulator.model import ALL_SUCCEEDED
from tests.integration.test_subscriptions import GqlWs
from tests.support.harness import Emulator, gateway_settings
from tests.support.http_streams import MULTIPART_DEFER, SSE, multipart_parts, sse_events
from tests.support.server import ThreadedServer

ACCEPTS = pytest.mark.parametrize("accept", [MULTIPART_DEFER, SSE], ids=["multipart", "sse"])


class Gate(httpx.AsyncBaseTransport):
    """The real transport, except that a call naming any ``held`` ID waits for :meth:`release`."""

    def __init__(self, held: set[str]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.held = held
        self.waiting = 0
        self._open = threading.Event()

    def release(self) -> None:
        self._open.set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if any(video_id in str(request.url) for video_id in self.held) and not self._open.is_set():
            self.waiting += 1
            await asyncio.to_thread(self._open.wait)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
def gated() -> Iterator[Callable[..., tuple[str, Gate]]]:
    servers: list[ThreadedServer] = []
    gates: list[Gate] = []

    def start(emulator: Emulator, held: set[str]) -> tuple[str, Gate]:
        gate = Gate(held)
        settings = gateway_settings(emulator.url, GATEWAY_LOG_LEVEL="WARNING")
        server = ThreadedServer(create_app(settings, transport=gate))
        server.start()
        servers.append(server)
        gates.append(gate)
        return server.url + "/graphql", gate

    yield start
    for gate in gates:
        gate.release()
    for server in servers:
        server.stop()


async def payloads(response: httpx.Response, accept: str) -> AsyncIterator[dict[str, Any]]:
    if accept == SSE:
        async for event, data in sse_events(response):
            if event == "next":
                yield data
    else:
        async for part in multipart_parts(response):
            yield part


def streamed_items(received: list[dict[str, Any]]) -> list[Any]:
    items = list(next(iter(received[0]["data"].values())))
    for payload in received[1:]:
        for part in payload.get("incremental", ()):
            items.extend(part.get("items", ()))
    return items


def errors_of(received: list[dict[str, Any]]) -> list[tuple[list[Any], str]]:
    found = [(e["path"], e["extensions"]["code"]) for e in received[0].get("errors", ())]
    for payload in received[1:]:
        for part in (*payload.get("incremental", ()), *payload.get("completed", ())):
            found += [(e["path"], e["extensions"]["code"]) for e in part.get("errors", ())]
    return found


SUMMARIES = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) @stream(initialCount: 0) { videoId } }"
VIDEOS = (
    "query($ids: [ID!]!) { videos(ids: $ids) @stream(initialCount: 0) { id transcodeSummary { videoId } } }"
)


@ACCEPTS
@pytest.mark.parametrize("query", [SUMMARIES, VIDEOS], ids=["transcodeSummaries", "videos"])
async def test_streamed_items_go_out_as_their_own_call_returns(
    accept: str, query: str, emulator: Emulator, gated: Callable[..., tuple[str, Gate]]
) -> None:
    ids = emulator.ids(ALL_SUCCEEDED, 20)
    url, gate = gated(emulator, set(ids[10:]))
    received: list[dict[str, Any]] = []
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream(
            "POST", url, json={"query": query, "variables": {"ids": ids}}, headers={"accept": accept}
        ) as r,
    ):
        assert r.status_code == 200
        stream = payloads(r, accept)
        while len(streamed_items(received) if received else ()) < 10:
            received.append(await anext(stream))
        assert gate.waiting == 1  # the first ten are out while the call of the other ten is held
        assert received[-1]["hasNext"] is True
        gate.release()
        received += [payload async for payload in stream]
    items = streamed_items(received)
    assert [item.get("videoId") or item["transcodeSummary"]["videoId"] for item in items] == ids
    assert received[-1]["hasNext"] is False
    assert emulator.accepted_calls == 2


@ACCEPTS
async def test_streamed_errors_keep_their_codes_and_paths(
    accept: str, emulator: Emulator, gated: Callable[..., tuple[str, Gate]]
) -> None:
    ids = [*emulator.ids(ALL_SUCCEEDED, 2), emulator.missing_id, "bad,id"]
    url, _ = gated(emulator, set())
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream(
            "POST", url, json={"query": SUMMARIES, "variables": {"ids": ids}}, headers={"accept": accept}
        ) as r,
    ):
        received = [payload async for payload in payloads(r, accept)]
    assert streamed_items(received) == [{"videoId": ids[0]}, {"videoId": ids[1]}, None, None]
    assert sorted(errors_of(received)) == [
        (["transcodeSummaries", 2], "VIDEO_NOT_FOUND"),
        (["transcodeSummaries", 3], "BAD_USER_INPUT"),
    ]


async def test_deferred_summaries_follow_the_initial_payload_with_coded_errors(
    emulator: Emulator, gated: Callable[..., tuple[str, Gate]]
) -> None:
    ids = [*emulator.ids(ALL_SUCCEEDED, 2), emulator.missing_id]
    query = 'query($ids: [ID!]!) { videos(ids: $ids) { id ... @defer(label: "s") { transcodeSummary { videoId } } } }'
    url, _ = gated(emulator, set())
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream(
            "POST", url, json={"query": query, "variables": {"ids": ids}}, headers={"accept": MULTIPART_DEFER}
        ) as r,
    ):
        assert r.headers["content-type"].startswith("multipart/mixed")
        received = [payload async for payload in multipart_parts(r)]
    assert received[0]["data"] == {"videos": [{"id": i} for i in ids]} and received[0]["hasNext"] is True
    deferred = {tuple(p["path"]): p for payload in received[1:] for p in payload.get("incremental", ())}
    assert deferred[("videos", 0)]["data"] == {"transcodeSummary": {"videoId": ids[0]}}
    assert deferred[("videos", 0)]["label"] == "s"
    assert errors_of(received) == [(["videos", 2, "transcodeSummary"], "VIDEO_NOT_FOUND")]
    assert emulator.accepted_calls == 1


def test_without_a_multipart_accept_an_incremental_operation_is_406_before_it_runs(
    emulator: Emulator, gated: Callable[..., tuple[str, Gate]]
) -> None:
    ids = emulator.ids(ALL_SUCCEEDED, 2)
    url, _ = gated(emulator, set())
    body = {"query": SUMMARIES, "variables": {"ids": ids}}
    response = httpx.post(url, json=body, headers={"accept": "application/json"})
    assert response.status_code == 406
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST" and "multipart/mixed" in error["message"]
    assert emulator.accepted_calls == 0


@pytest.mark.parametrize(
    "query", [SUMMARIES, VIDEOS.replace("@stream", "@ stream")], ids=["stream", "spaced"]
)
async def test_a_client_accepting_sse_and_json_gets_incremental_payloads_as_sse_events(
    query: str, emulator: Emulator, gated: Callable[..., tuple[str, Gate]]
) -> None:
    """urql and graphql-sse list text/event-stream with JSON: an incremental query stays a stream."""
    ids = emulator.ids(ALL_SUCCEEDED, 2)
    url, _ = gated(emulator, set())
    body = {"query": query, "variables": {"ids": ids}}
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("POST", url, json=body, headers={"accept": f"{SSE}, application/json"}) as r,
    ):
        assert r.status_code == 200 and r.headers["content-type"] == SSE
        events = [(event, data) async for event, data in sse_events(r)]
    assert events[-1] == ("complete", None)
    received = [data for event, data in events if event == "next"]
    assert received[0]["hasNext"] is True and received[-1]["hasNext"] is False
    assert [
        item.get("videoId") or item["transcodeSummary"]["videoId"] for item in streamed_items(received)
    ] == ids


def test_incremental_is_told_by_the_documents_directives_not_its_text(
    emulator: Emulator, gated: Callable[..., tuple[str, Gate]]
) -> None:
    [video] = emulator.ids(ALL_SUCCEEDED, 1)
    url, _ = gated(emulator, set())
    commented = "query($ids: [ID!]!) {\n  # no @defer here, nor @stream\n  transcodeSummaries(videoIds: $ids) { videoId }\n}"
    plain = httpx.post(url, json={"query": commented, "variables": {"ids": [video]}})
    assert plain.status_code == 200
    assert plain.json() == {"data": {"transcodeSummaries": [{"videoId": video}]}}
    spaced = SUMMARIES.replace("@stream", "@ stream")  # a directive all the same
    refused = httpx.post(url, json={"query": spaced, "variables": {"ids": [video]}})
    assert refused.status_code == 406
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_over_graphql_transport_ws_incremental_delivery_is_a_coded_error(
    emulator: Emulator, gated: Callable[..., tuple[str, Gate]]
) -> None:
    ids = emulator.ids(ALL_SUCCEEDED, 2)
    url, _ = gated(emulator, set())
    ws = await GqlWs.open(url.removesuffix("/graphql"))
    await ws.send(
        {"id": "s", "type": "subscribe", "payload": {"query": SUMMARIES, "variables": {"ids": ids}}}
    )
    refused = await ws.recv()
    assert refused["type"] == "error" and refused["id"] == "s"
    [error] = refused["payload"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert "graphql-transport-ws" in error["message"] and "multipart/mixed" in error["message"]
    await ws.close()
