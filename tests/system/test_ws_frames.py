"""Generated WebSocket frames against a real gateway process, on both subprotocols, before and
after ``connection_init``: every malformed message gets the protocol's answer (graphql-transport-ws:
close 4400; graphql-ws: an ``error`` message, the socket staying open), every other frame gets the
protocol's reply or none, and then the connection still answers (no hang). The log never holds a
traceback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.processes import GatewayProcess, gateway

TRANSPORT, LEGACY = "graphql-transport-ws", "graphql-ws"
KEY = "ws-frames-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
PROBE = 'subscription { transcodeSummaryUpdates(videoIds: ["no-such-video"]) { videoId } }'
ANSWER = 5.0  # seconds any answer may take: past it, the gateway hangs
EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
not_a_string = json_values.filter(lambda v: not isinstance(v, str))
not_an_object = json_values.filter(lambda v: not isinstance(v, dict) and v is not None)
bad_id = not_a_string | st.just("")


def operation(start: str) -> st.SearchStrategy[dict[str, Any]]:
    """A subscribe/start message with exactly one thing wrong in it."""
    good = {"query": 'subscription { transcodeSummaryUpdates(videoIds: ["x"]) { videoId } }'}
    bad_payload = st.one_of(
        not_an_object,
        st.builds(lambda q: {**good, "query": q}, not_a_string),
        st.just({"variables": {}}),  # no query
        st.builds(lambda v: {**good, "variables": v}, not_an_object),
        st.builds(lambda n: {**good, "operationName": n}, not_a_string.filter(lambda v: v is not None)),
    )
    return st.one_of(
        st.builds(lambda p: {"type": start, "id": "1", "payload": p}, bad_payload),
        st.just({"type": start, "id": "1"}),  # no payload
        st.builds(lambda i: {"type": start, "id": i, "payload": good}, bad_id),
        st.just({"type": start, "payload": good}),  # no id
    )


def malformed(protocol: str) -> st.SearchStrategy[str]:
    start, stop = ("subscribe", "complete") if protocol == TRANSPORT else ("start", "stop")
    objects = st.one_of(
        st.dictionaries(st.sampled_from(["id", "payload", "query"]), json_values, max_size=3),  # no type
        st.builds(
            lambda t: {"type": t}, not_a_string | st.text(max_size=12).filter(lambda t: t not in KNOWN)
        ),
        operation(start),
        st.builds(lambda i: {"type": stop, "id": i}, bad_id),
        st.builds(lambda p: {"type": "connection_init", "payload": p}, not_an_object),
    )
    as_json = (objects | not_an_object).map(json.dumps)
    not_json = st.text(min_size=1, max_size=30).filter(lambda t: not _is_json(t))
    return as_json | not_json


KNOWN = {"connection_init", "ping", "pong", "subscribe", "complete", "connection_terminate", "start", "stop"}


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    log = tmp_path_factory.mktemp("ws-frames") / "gateway.log"
    with gateway(log, GATEWAY_API_KEYS=KEY, GATEWAY_LOG_LEVEL="INFO") as proc:
        yield proc
        proc.assert_clean_log()
        text = proc.text()
        assert "Exception in" not in text and '"level": "error"' not in text, text[-3000:]


async def opened(gw: GatewayProcess, protocol: str, initialised: bool) -> ClientConnection:
    url = gw.url.replace("http://", "ws://") + "/graphql"
    ws = await connect(url, subprotocols=[protocol], compression=None, proxy=None)  # type: ignore[list-item]
    if initialised:
        await ws.send(json.dumps({"type": "connection_init", "payload": AUTH}))
        assert json.loads(await asyncio.wait_for(ws.recv(), ANSWER))["type"] == "connection_ack"
    return ws


async def closed_with(ws: ClientConnection) -> int | None:
    """Read until the server closes; its close code."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), ANSWER)
    except ConnectionClosed:
        return ws.close_code


async def still_answers(ws: ClientConnection, protocol: str, initialised: bool) -> None:
    """The connection goes on: a ping gets its pong; on graphql-ws, init gets its ack, or an
    operation its result."""
    if protocol == TRANSPORT:
        probe, wanted = {"type": "ping"}, "pong"
    elif initialised:
        probe, wanted = {"type": "start", "id": "probe", "payload": {"query": PROBE}}, "data"
    else:
        probe, wanted = {"type": "connection_init", "payload": AUTH}, "connection_ack"
    await ws.send(json.dumps(probe))
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), ANSWER))
        if message["type"] == wanted and message.get("id") in (None, "probe"):
            return


async def throw(gw: GatewayProcess, protocol: str, initialised: bool, frame: str) -> None:
    ws = await opened(gw, protocol, initialised)
    try:
        await ws.send(frame)
        if protocol == TRANSPORT:
            assert await closed_with(ws) == 4400, frame
            return
        message = json.loads(await asyncio.wait_for(ws.recv(), ANSWER))
        assert message["type"] == "error" and message["payload"]["message"], (frame, message)
        await still_answers(ws, protocol, initialised)
    finally:
        await ws.close()


@pytest.mark.parametrize("initialised", [False, True], ids=["before-init", "after-init"])
@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
def test_a_malformed_message_gets_the_protocols_answer(
    gw: GatewayProcess, protocol: str, initialised: bool
) -> None:
    @EXAMPLES
    @given(frame=malformed(protocol))
    def check(frame: str) -> None:
        asyncio.run(throw(gw, protocol, initialised, frame))

    check()


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
def test_any_frame_is_answered_or_ignored_and_never_hangs(gw: GatewayProcess, protocol: str) -> None:
    """Frames of any shape, malformed or not (a valid connection_init, ping, complete...): the
    socket is closed with one of the protocol's codes, or it still answers."""
    codes = {4400, 4401, 4403, 4409, 4429, 1000, 1011}
    frames = st.one_of(
        json_values.map(json.dumps),
        st.builds(lambda t, m: json.dumps({"type": t, **m}), st.sampled_from(sorted(KNOWN)),
                  st.dictionaries(st.sampled_from(["id", "payload"]), json_values, max_size=2)),
    )  # fmt: skip

    async def run(frame: str) -> None:
        ws = await opened(gw, protocol, True)
        try:
            await ws.send(frame)
            try:
                await still_answers(ws, protocol, True)
            except ConnectionClosed:
                assert ws.close_code in codes, (frame, ws.close_code)
        finally:
            await ws.close()

    @EXAMPLES
    @given(frame=frames)
    def check(frame: str) -> None:
        asyncio.run(run(frame))

    check()


def test_a_binary_frame_closes_the_socket(gw: GatewayProcess) -> None:
    async def run(protocol: str) -> int | None:
        ws = await opened(gw, protocol, True)
        await ws.send(b"\x00\x01")
        return await closed_with(ws)

    assert asyncio.run(run(TRANSPORT)) == 4400
    assert asyncio.run(run(LEGACY)) == 1002  # graphql-ws has no code of its own: a protocol error
