"""WebSocket limits of a real gateway process: a message over GATEWAY_MAX_BODY_BYTES is closed
with 1009 before it is read (30 connections announcing 16 MB each leave RSS flat), permessage-
deflate is never negotiated (a compressed frame is a protocol error), both subprotocols close a
socket that never sends ``connection_init`` (4408), and the caps on open subscriptions per key and
per process answer a new subscribe with a RATE_LIMITED ``error`` while the others go on."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.emulator.catalogue import Catalogue
from gateway.emulator.model import PROCESSING
from tests.support.harness import Emulator
from tests.system.procs import GatewayProcess, gateway

pytestmark = pytest.mark.slow

ANSWER = 10.0


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def handshake(
    port: int, extensions: str = "permessage-deflate; client_max_window_bits"
) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: graphql-transport-ws\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock, head.lower()


def frame_head(length: int, rsv1: bool = False) -> bytes:
    """A masked text frame's header announcing ``length`` bytes, and its mask."""
    first = 0x81 | (0x40 if rsv1 else 0)
    return struct.pack("!BBQ", first, 0x80 | 127, length) + b"\x00\x00\x00\x00"


def close_code(sock: socket.socket) -> int:
    """The code of the server's close frame (it is unmasked and comes first)."""
    data = b""
    while len(data) < 4:
        chunk = sock.recv(4096)
        assert chunk, data
        data += chunk
    assert data[0] & 0x0F == 0x8, data[:20]
    code: int = struct.unpack("!H", data[2:4])[0]
    return code


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    log = tmp_path_factory.mktemp("edge-ws") / "gateway.log"
    with gateway(log, GATEWAY_WS_INIT_TIMEOUT="1") as proc:
        yield proc
        proc.assert_clean_log()


def test_thirty_16_mb_connection_inits_are_closed_with_1009_and_rss_stays_flat(gw: GatewayProcess) -> None:
    before = rss_kb(gw.popen.pid)
    sockets = []
    for _ in range(30):
        sock, head = handshake(gw.port)
        assert b"sec-websocket-extensions" not in head  # no compression: the cap is on the real size
        payload = b'{"type":"connection_init","payload":{"x":"' + b"a" * 60000
        sock.sendall(frame_head(16 * 1024 * 1024) + payload)
        sockets.append(sock)
    codes = [close_code(sock) for sock in sockets]
    for sock in sockets:
        sock.close()
    assert codes == [1009] * 30
    assert rss_kb(gw.popen.pid) - before < 20 * 1024


def test_a_compressed_frame_without_negotiation_is_a_protocol_error(gw: GatewayProcess) -> None:
    sock, _ = handshake(gw.port)
    sock.sendall(frame_head(16, rsv1=True) + b"x" * 16)
    assert close_code(sock) == 1002
    sock.close()


def test_a_message_within_the_cap_is_read(gw: GatewayProcess) -> None:
    async def run() -> str:
        url = gw.url.replace("http://", "ws://") + "/graphql"
        async with connect(url, subprotocols=["graphql-transport-ws"], proxy=None) as ws:  # type: ignore[list-item]
            payload = {"pad": "a" * 60000}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            return str(json.loads(await asyncio.wait_for(ws.recv(), ANSWER))["type"])

    assert asyncio.run(run()) == "connection_ack"


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
def test_a_socket_that_never_initialises_is_closed_4408(gw: GatewayProcess, protocol: str) -> None:
    async def run() -> int | None:
        url = gw.url.replace("http://", "ws://") + "/graphql"
        ws = await connect(url, subprotocols=[protocol], proxy=None)  # type: ignore[list-item]
        try:
            await asyncio.wait_for(ws.recv(), ANSWER)
        except ConnectionClosed:
            pass
        return ws.close_code

    assert asyncio.run(run()) == 4408


class _Stopped:
    """A clock that never moves: the catalogue's processing videos stay processing."""

    def now(self) -> float:
        return 1000.0

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


SUBSCRIBE = "subscription($ids: [ID!]!) { transcodeSummaryUpdates(videoIds: $ids) { videoId } }"


async def opened(url: str, key: str) -> ClientConnection:
    ws = await connect(url, subprotocols=["graphql-transport-ws"], proxy=None)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
    assert json.loads(await asyncio.wait_for(ws.recv(), ANSWER))["type"] == "connection_ack"
    return ws


async def subscribe(ws: ClientConnection, op_id: str, video: str) -> dict[str, Any]:
    """The first message of a new subscription: its first ``next``, or its ``error``."""
    message = {
        "type": "subscribe",
        "id": op_id,
        "payload": {"query": SUBSCRIBE, "variables": {"ids": [video]}},
    }
    await ws.send(json.dumps(message))
    while True:
        answer: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), ANSWER))
        if answer.get("id") == op_id:
            return answer


async def still_open(ws: ClientConnection) -> None:
    await ws.send(json.dumps({"type": "ping"}))
    while json.loads(await asyncio.wait_for(ws.recv(), ANSWER))["type"] != "pong":
        pass


def test_subscription_caps_per_key_and_per_process(tmp_path: Path, emulator: Emulator) -> None:
    emulator.state.catalogue = Catalogue.generate(200, 1, _Stopped())
    videos = emulator.ids(PROCESSING, 6)
    env = {
        "GATEWAY_API_KEYS": "key-a name=a,key-b name=b",
        "GATEWAY_SUBSCRIPTIONS_PER_KEY": "2",
        "GATEWAY_SUBSCRIPTIONS_MAX": "3",
    }
    with gateway(tmp_path / "gw.log", emulator.url, **env) as gw:
        url = gw.url.replace("http://", "ws://") + "/graphql"

        async def run() -> None:
            a, b = await opened(url, "key-a"), await opened(url, "key-b")
            assert (await subscribe(a, "a1", videos[0]))["type"] == "next"
            assert (await subscribe(a, "a2", videos[1]))["type"] == "next"
            refused = await subscribe(a, "a3", videos[2])  # a's third: past the per-key cap
            assert refused["type"] == "error"
            [error] = refused["payload"]
            assert error["extensions"] == {"code": "RATE_LIMITED", "limit": 2}
            assert "GATEWAY_SUBSCRIPTIONS_PER_KEY" in error["message"]
            assert (await subscribe(b, "b1", videos[3]))["type"] == "next"
            refused = await subscribe(b, "b2", videos[4])  # the process's fourth: past the total
            assert refused["type"] == "error" and refused["payload"][0]["extensions"]["limit"] == 3
            await still_open(a)  # the connections and their subscriptions go on
            await still_open(b)
            await a.send(json.dumps({"type": "complete", "id": "a1"}))  # a slot frees up

            async def retried() -> dict[str, Any]:
                while True:
                    answer = await subscribe(b, "b3", videos[5])
                    if answer["type"] == "next":
                        return answer
                    await b.send(json.dumps({"type": "complete", "id": "b3"}))

            assert (await asyncio.wait_for(retried(), ANSWER))["type"] == "next"
            await a.close()
            await b.close()

        asyncio.run(run())
        gw.assert_clean_log()
