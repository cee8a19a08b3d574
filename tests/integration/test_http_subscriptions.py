"""Subscriptions over plain HTTP, end to end: multipart/mixed (Apollo's subscriptionSpec 1.0) and
SSE (graphql-sse's distinct connections mode) against the gateway served by uvicorn, polling the
emulator over loopback on a frozen clock (as in test_subscriptions.py). They share the WebSocket's
poller, its operation caps and the route's API key."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.emulator.model import ALL_SUCCEEDED, PROCESSING
from tests.integration.test_subscriptions import (
    FINAL,
    UPDATES,
    GqlWs,
    Live,
    State,
    dedup,
    expected_states,
    freeze,
    serve,
    state_of_event,
    wait_until,
)
from tests.support.harness import Emulator, LogRecords, gateway_settings
from tests.support.http_streams import MULTIPART_SUBSCRIPTION, SSE, multipart_parts, sse_events

__all__ = ["serve"]  # the fixture, shared with the WebSocket tests

KEY = "http-streams-key-0123456789"


def events(response: httpx.Response, accept: str) -> AsyncIterator[Any]:
    """The GraphQL results of one stream, without heartbeats, then ``"complete"``."""

    async def sse() -> AsyncIterator[Any]:
        async for event, data in sse_events(response):
            yield data if event == "next" else event

    async def multipart() -> AsyncIterator[Any]:
        async for part in multipart_parts(response):
            if part:  # {} is a heartbeat
                yield part["payload"]
        yield "complete"

    return sse() if accept == SSE else multipart()


def subscription(ids: list[str], query: str = UPDATES) -> dict[str, Any]:
    return {"query": query, "variables": {"ids": ids}}


@pytest.mark.parametrize("accept", [SSE, MULTIPART_SUBSCRIPTION], ids=["sse", "multipart"])
async def test_every_change_then_complete_through_the_shared_poller(
    accept: str, make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    emulator = freeze(make_emulator(), 600)
    ids = emulator.ids(PROCESSING, 3)
    live = serve(emulator)
    seen: dict[str, list[State]] = {}
    ended: list[str] = []
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("POST", live.url + "/graphql", json=subscription(ids), headers={"accept": accept}) as r,
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith(accept.split(";", 1)[0])

        async def read() -> None:
            async for result in events(r, accept):
                if result == "complete":
                    ended.append(result)
                    return
                assert "errors" not in result, result
                item = result["data"]["transcodeSummaryUpdates"]
                seen.setdefault(item["videoId"], []).append(state_of_event(item))

        reader = asyncio.create_task(read())
        timeline = [expected_states(emulator, ids)]
        await wait_until(lambda: len(seen) == len(ids), "first events")
        await wait_until(lambda: live.poller.watched == len(ids), "all IDs watched by the shared poller")
        while not all(state[0] in FINAL for state in timeline[-1].values()):
            emulator.state.advance(60)
            want = expected_states(emulator, ids)
            timeline.append(want)
            await wait_until(lambda: all(seen[i][-1] == want[i] for i in ids), "every change")  # noqa: B023
        await asyncio.wait_for(reader, 30)
    assert ended == ["complete"]
    assert seen == {i: dedup([t[i] for t in timeline]) for i in ids}
    assert live.poller.watched == 0


@pytest.mark.parametrize("accept", [SSE, MULTIPART_SUBSCRIPTION], ids=["sse", "multipart"])
async def test_a_nonexistent_id_gets_its_coded_error_and_the_others_go_on(
    accept: str, make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    emulator = make_emulator()
    done = emulator.ids(ALL_SUCCEEDED, 1)
    live = serve(emulator)
    query = "subscription($ids: [ID!]!) { transcodeSummaryUpdates(videoIds: $ids) { videoId } }"
    body = subscription([*done, emulator.missing_id], query)
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("POST", live.url + "/graphql", json=body, headers={"accept": accept}) as r,
    ):
        results = [result async for result in events(r, accept)]
    assert results[0] == {"data": {"transcodeSummaryUpdates": {"videoId": done[0]}}}
    [error] = results[1]["errors"]
    assert results[1]["data"] is None
    assert error["extensions"] == {"code": "VIDEO_NOT_FOUND", "videoId": emulator.missing_id}
    assert error["path"] == ["transcodeSummaryUpdates"]
    assert results[2:] == ["complete"]


async def test_http_streams_need_the_api_key_and_share_the_per_key_cap_with_websockets(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live], gateway_logs: LogRecords
) -> None:
    emulator = freeze(make_emulator(), 600)
    ids = emulator.ids(PROCESSING, 1)
    live = serve(emulator, GATEWAY_API_KEYS=KEY, GATEWAY_SUBSCRIPTIONS_PER_KEY="1")
    url, key = live.url + "/graphql", {"authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(timeout=30) as client:
        anonymous = await client.post(url, json=subscription(ids), headers={"accept": SSE})
        assert anonymous.status_code == 401
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

        async with client.stream("POST", url, json=subscription(ids), headers={"accept": SSE, **key}) as held:
            assert held.status_code == 200
            first = events(held, SSE)
            assert "data" in await anext(first)
            for accept in (SSE, MULTIPART_SUBSCRIPTION):  # past the cap: 429 before any stream
                refused = await client.post(url, json=subscription(ids), headers={"accept": accept, **key})
                assert refused.status_code == 429
                [error] = refused.json()["errors"]
                assert error["extensions"] == {"code": "RATE_LIMITED", "limit": 1}
                assert "GATEWAY_SUBSCRIPTIONS_PER_KEY" in error["message"]
            ws = await GqlWs.open(live.url, headers=key)  # the WebSocket counts against the same cap
            await ws.subscribe("w", ids)
            message = await ws.recv()
            assert (
                message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
            )
            await ws.close()
        # the client went away: its slot and its IDs are freed
        await wait_until(lambda: live.poller.watched == 0, "the dropped stream's IDs released")
        async with client.stream(
            "POST", url, json=subscription(ids), headers={"accept": SSE, **key}
        ) as again:
            assert again.status_code == 200
            assert "data" in await anext(events(again, SSE))
    assert gateway_logs.errors() == []  # a client going away mid-stream is no error


async def test_a_subscription_without_a_streaming_accept_is_a_clear_400_naming_the_ways(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    live = serve(make_emulator())
    response = httpx.post(
        live.url + "/graphql", json=subscription(["v1"]), headers={"accept": "application/json"}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    for way in ("WebSocket", "multipart/mixed;subscriptionSpec=1.0", "text/event-stream"):
        assert way in error["message"]


async def test_a_query_over_sse_is_one_result_then_complete(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    emulator = make_emulator()
    [video] = emulator.ids(ALL_SUCCEEDED, 1)
    live = serve(emulator)
    body = {
        "query": "query($id: ID!) { transcodeSummary(videoId: $id) { videoId } }",
        "variables": {"id": video},
    }
    async with httpx.AsyncClient(timeout=30) as client:
        plain = await client.post(live.url + "/graphql", json=body)  # now in the response cache
        assert plain.json() == {"data": {"transcodeSummary": {"videoId": video}}}
        for _ in range(2):  # a stream-only client still gets its stream, never the cached JSON
            async with client.stream("POST", live.url + "/graphql", json=body, headers={"accept": SSE}) as r:
                assert r.headers["content-type"] == "text/event-stream"
                results = [result async for result in events(r, SSE)]
            assert results == [{"data": {"transcodeSummary": {"videoId": video}}}, "complete"]


async def test_a_client_accepting_json_and_sse_gets_json_for_queries_and_a_stream_for_subscriptions(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    """urql lists text/event-stream in every Accept: a query keeps plain HTTP's single answer."""
    emulator = make_emulator()
    [video] = emulator.ids(ALL_SUCCEEDED, 1)
    live = serve(emulator)
    accept = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"
    query = {
        "query": "query($id: ID!) { transcodeSummary(videoId: $id) { videoId } }",
        "variables": {"id": video},
    }
    async with httpx.AsyncClient(timeout=30) as client:
        answered = await client.post(live.url + "/graphql", json=query, headers={"accept": accept})
        assert answered.headers["content-type"].startswith("application/graphql-response+json")
        assert answered.json() == {"data": {"transcodeSummary": {"videoId": video}}}
        body = subscription(
            [video], "subscription($ids: [ID!]!) { transcodeSummaryUpdates(videoIds: $ids) { videoId } }"
        )
        async with client.stream("POST", live.url + "/graphql", json=body, headers={"accept": accept}) as r:
            assert r.headers["content-type"] == "text/event-stream"
            results = [result async for result in events(r, SSE)]
    assert results == [{"data": {"transcodeSummaryUpdates": {"videoId": video}}}, "complete"]


async def test_a_streams_events_are_not_counted_as_operations(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    """As over a WebSocket: /metrics' operations count requests that ran, not a stream's events."""
    emulator = make_emulator()
    done = emulator.ids(ALL_SUCCEEDED, 3)
    live = serve(emulator)

    def operations() -> float:
        text = httpx.get(live.url + "/metrics").text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("gateway_graphql_operations_total{")
        )

    before = operations()
    body = subscription(
        done, "subscription($ids: [ID!]!) { transcodeSummaryUpdates(videoIds: $ids) { videoId } }"
    )
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("POST", live.url + "/graphql", json=body, headers={"accept": SSE}) as r,
    ):
        results = [result async for result in events(r, SSE)]
    assert len(results) == 4  # three events and the end
    assert operations() == before


async def test_a_stream_given_up_before_its_first_event_frees_its_slot(emulator: Emulator) -> None:
    """The client is gone when the response starts (the server's send raises, as uvicorn's does):
    the stream's generator never runs, and its slot is freed all the same. With one slot in all,
    each of these requests would be refused 429 after the first if one were kept."""
    app = create_app(gateway_settings(emulator.url, GATEWAY_SUBSCRIPTIONS_MAX="1"))
    body = json.dumps(subscription(emulator.ids(PROCESSING, 1))).encode()
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def gone(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
            if message["status"] == 200:  # a stream, about to start
                raise OSError("the client is gone")

    async with app.router.lifespan_context(app) as state:
        for accept in (SSE, MULTIPART_SUBSCRIPTION, SSE):
            headers = [(b"content-type", b"application/json"), (b"accept", accept.encode())]
            scope = {
                "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
                "method": "POST", "scheme": "http", "path": "/graphql", "raw_path": b"/graphql",
                "query_string": b"", "root_path": "", "headers": headers, "server": ("test", 80),
                "client": ("127.0.0.1", 1), "state": dict(state or {}),
            }  # fmt: skip
            await app(scope, receive, gone)
    assert statuses == [200, 200, 200]


async def test_a_query_with_the_multipart_subscription_accept_is_one_answer_or_a_406_and_takes_no_slot(
    make_emulator: Callable[..., Emulator], serve: Callable[..., Live]
) -> None:
    emulator = make_emulator()
    [video] = emulator.ids(ALL_SUCCEEDED, 1)
    live = serve(emulator, GATEWAY_SUBSCRIPTIONS_MAX="1")
    url = live.url + "/graphql"
    query = {
        "query": "query($id: ID!) { transcodeSummary(videoId: $id) { videoId } }",
        "variables": {"id": video},
    }
    only_multipart = "multipart/mixed;subscriptionSpec=1.0"
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("POST", url, json=subscription([video]), headers={"accept": SSE}) as held,  # the slot
    ):
        assert "data" in await anext(events(held, SSE))
        answered = await client.post(url, json=query, headers={"accept": MULTIPART_SUBSCRIPTION})
        assert answered.status_code == 200 and answered.headers["content-type"] == "application/json"
        assert answered.json() == {"data": {"transcodeSummary": {"videoId": video}}}
        refused = await client.post(url, json=query, headers={"accept": only_multipart})
        assert refused.status_code == 406
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert "multipart/mixed;subscriptionSpec=1.0" in error["message"] and "query" in error["message"]
        assert "graphql-ws" not in error["message"]
