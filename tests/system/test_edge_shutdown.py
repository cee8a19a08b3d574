"""SIGTERM on a real gateway process: a clean shutdown exits 0 (not 143), a client dribbling a
body at one byte per tick is cut off at GATEWAY_SHUTDOWN_TIMEOUT and the process still exits 0
within it, an open WebSocket is closed with 1012, a subscription over HTTP ends as its protocol's
clients retry (SSE: an error event and no `complete`; multipart: the transport-level error), and with GATEWAY_SHUTDOWN_DRAIN readiness turns 503 at
the signal while requests go on being served. The log stays JSON without a traceback."""

from __future__ import annotations

import asyncio
import json
import select
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway.emulator.catalogue import Catalogue
from gateway.emulator.model import PROCESSING
from tests.support.clock import ManualClock
from tests.support.harness import Emulator
from tests.support.http_streams import MULTIPART_SUBSCRIPTION
from tests.support.waits import eventually
from tests.system.procs import gateway

pytestmark = pytest.mark.slow

GRACE = 2.0


def test_a_clean_sigterm_exits_0(tmp_path: Path) -> None:
    with gateway(tmp_path / "gw.log") as gw:
        gw.popen.send_signal(signal.SIGTERM)
        assert gw.wait_exit(10) == 0
        gw.assert_clean_log()


def test_a_dribbling_client_is_cut_off_at_the_shutdown_timeout(tmp_path: Path) -> None:
    with gateway(tmp_path / "gw.log", GATEWAY_SHUTDOWN_TIMEOUT=str(GRACE)) as gw:
        sock = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
        head = b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        sock.sendall(head + b" ")
        gw.popen.send_signal(signal.SIGTERM)
        started = time.monotonic()
        while gw.popen.poll() is None and time.monotonic() - started < GRACE * 5:
            readable, _, _ = select.select([sock], [], [], 0.5)  # one byte per tick until cut off
            if readable:
                break
            try:
                sock.sendall(b" ")
            except OSError:
                break
        assert gw.wait_exit(GRACE * 3) == 0
        assert time.monotonic() - started < GRACE + 3
        sock.close()
        assert "cutting off connections" in gw.text(), gw.tail()
        gw.assert_clean_log()


def test_an_open_websocket_is_closed_with_1012_and_the_exit_is_0(tmp_path: Path) -> None:
    with gateway(tmp_path / "gw.log") as gw:
        url = gw.url.replace("http://", "ws://") + "/graphql"

        async def run() -> int | None:
            ws = await connect(url, subprotocols=["graphql-transport-ws"], proxy=None)  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
            gw.popen.send_signal(signal.SIGTERM)
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            except ConnectionClosed:
                return ws.close_code

        assert asyncio.run(run()) == 1012
        assert gw.wait_exit(10) == 0
        gw.assert_clean_log()


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_turns_readiness_503_at_once_while_requests_in_flight_finish(tmp_path: Path) -> None:
    """GATEWAY_SHUTDOWN_DRAIN: from the signal on, /readyz is 503 and new requests are still
    served; a second signal ends the drain, the listener closes, and the request that was in
    flight all along (its body half sent) is answered before the exit (0)."""
    with gateway(tmp_path / "gw.log", GATEWAY_SHUTDOWN_DRAIN="120") as gw:
        assert httpx.get(gw.url + "/readyz").status_code == 200
        body = json.dumps({"query": "{ __typename }"}).encode()
        head = f"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        in_flight = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
        in_flight.sendall(head.encode() + body[:5])

        gw.popen.send_signal(signal.SIGTERM)
        eventually(lambda: httpx.get(gw.url + "/readyz").status_code == 503, 10, "readiness 503")
        assert httpx.get(gw.url + "/readyz").json() == {"status": "draining", "checks": {}}
        still = httpx.post(gw.url + "/graphql", json={"query": "{ __typename }"})
        assert still.json() == {"data": {"__typename": "Query"}}  # the drain still serves

        gw.popen.send_signal(signal.SIGTERM)  # the drain ends: the shutdown begins
        eventually(lambda: _refused(gw.port), 10, "the listener closed")
        in_flight.sendall(body[5:])
        answer = b""
        while chunk := in_flight.recv(65536):
            answer += chunk
        in_flight.close()
        assert answer.startswith(b"HTTP/1.1 200 OK")
        assert answer.endswith(b'{"data":{"__typename":"Query"}}')
        assert gw.wait_exit(10) == 0
        assert "shutdown: draining" in gw.text()
        gw.assert_clean_log()


@pytest.mark.parametrize("accept", ["text/event-stream", MULTIPART_SUBSCRIPTION], ids=["sse", "multipart"])
def test_an_open_http_subscription_ends_with_an_error_event_and_the_exit_is_0(
    accept: str, tmp_path: Path, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = make_emulator()
    emulator.state.catalogue = Catalogue.generate(600, 1, ManualClock())  # nothing moves: it stays open
    [video] = emulator.ids(PROCESSING, 1)
    query = f'subscription {{ transcodeSummaryUpdates(videoIds: ["{video}"]) {{ videoId progress }} }}'
    with (
        gateway(tmp_path / "gw.log", emulator.url, GATEWAY_SHUTDOWN_TIMEOUT="20") as gw,
        httpx.stream(
            "POST", gw.url + "/graphql", json={"query": query}, headers={"accept": accept}, timeout=30
        ) as response,
    ):
        assert response.status_code == 200
        text, signalled = "", False
        for chunk in response.iter_text():
            text += chunk
            if not signalled and video in text:  # the first event is out: now stop the gateway
                gw.popen.send_signal(signal.SIGTERM)
                signalled = True
        assert signalled
        assert gw.wait_exit(10) == 0
    if accept.startswith("text"):  # the error as an event, then the end without `complete`: retried
        *_, last = (block for block in text.split("\n\n") if block.strip() and not block.startswith(":"))
        assert last.startswith("event: next\ndata: ")
        assert "event: complete" not in text
        final = json.loads(last.split("data: ", 1)[1])
        assert final["data"] is None
    else:  # multipart: the protocol's transport-level error (Apollo Client raises it), then the end
        assert text.rstrip().endswith("--graphql--")
        body = text[: text.rindex("--graphql--")].rstrip().removesuffix("--graphql")
        final = json.loads(body[body.rindex("\r\n\r\n") :])
        assert final["payload"] is None
    [error] = final["errors"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE"} and "shutting down" in error["message"]
    assert "cutting off connections" not in gw.text()  # the stream ended by itself, well before the timeout
    gw.assert_clean_log()
