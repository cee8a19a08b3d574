"""``serve --emulator`` wires VOD's callbacks up by default: the embedded emulator signs and POSTs
its events to the gateway, so a subscriber sees completion without a poll round; with every
callback lost, the poller still reconciles."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from tests.support.processes import Process, free_port
from tests.system.procs import gateway_env

UPDATES = "subscription($v: [ID!]!) { transcodeSummaryUpdates(videoIds: $v) { videoId transcodeStatus } }"
FINAL = {"COMPLETE_ALL_SUCC", "COMPLETE_ALL_FAIL", "COMPLETE_PARTIAL_SUCC"}


@contextmanager
def serve(log: Path, **env: str) -> Iterator[tuple[str, str]]:
    port, emulator_port = free_port(), free_port()
    args = [sys.executable, "-m", "gateway", "serve", "--emulator", "--port", str(port)]
    env.setdefault("VOD_EMULATOR_CATALOGUE", "300")  # fewer videos: fewer events to wade through
    proc = Process([*args, "--emulator-port", str(emulator_port)], gateway_env(None, **env), log)
    try:
        proc.wait_http(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{emulator_port}"
        assert "Traceback" not in proc.text()
    finally:
        proc.stop()


def metric(url: str, line_start: str) -> float:
    text = httpx.get(url + "/metrics").text
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start)]
    return sum(values)


async def until(condition: Any, what: str) -> None:
    """A bound against hanging while another process works, not a timing assertion."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        await asyncio.sleep(0.02)


async def watch_to_the_end(
    gateway: str, emulator: str, poll_rounds_before_advance: int
) -> list[dict[str, Any]]:
    video = httpx.get(emulator + "/_emulator/catalogue?per_status=1").json()["samples"]["Processing"][0]
    ws_url = gateway.replace("http://", "ws://") + "/graphql"
    async with connect(ws_url, subprotocols=["graphql-transport-ws"], compression=None) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": UPDATES, "variables": {"v": [video]}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        messages = [json.loads(await asyncio.wait_for(ws.recv(), 30))]
        await until(
            lambda: metric(gateway, "gateway_poll_rounds_total") >= poll_rounds_before_advance, "a poll round"
        )
        # emulated time moves in 20 s steps, so each step's events are a trickle, as VOD sends
        # them, not one burst of the whole catalogue's; a step is taken whenever nothing arrives
        for _ in range(60):
            httpx.post(emulator + "/_emulator/clock", json={"advance": 20})
            try:
                while messages[-1]["type"] != "complete":
                    messages.append(json.loads(await asyncio.wait_for(ws.recv(), 1.0)))
            except TimeoutError:
                continue
            break
    assert messages[-1]["type"] == "complete", messages
    return messages


async def test_completion_arrives_by_callback_without_a_poll_round(tmp_path: Path) -> None:
    with serve(tmp_path / "gateway.log", GATEWAY_POLL_INTERVAL="600") as (gateway, emulator):
        messages = await watch_to_the_end(gateway, emulator, 1)
        states = [m["payload"]["data"]["transcodeSummaryUpdates"]["transcodeStatus"] for m in messages[:-1]]
        assert states[0] not in FINAL and states[-1] in FINAL
        assert [m["type"] for m in messages] == ["next"] * len(states) + ["complete"]
        assert metric(gateway, "gateway_poll_rounds_total") == 1  # the poller slept through it
        assert metric(gateway, 'gateway_vod_callbacks_total{result="accepted"}') >= 1
        assert metric(gateway, 'gateway_vod_callbacks_total{result="forged"}') == 0
        sent = httpx.get(emulator + "/_emulator/stats").json()["callbacks"]
        assert sent["sent"] >= 1 and sent["lost"] == 0


async def test_with_every_callback_lost_the_poller_still_finishes_the_stream(tmp_path: Path) -> None:
    env = {"GATEWAY_POLL_INTERVAL": "0.2", "VOD_EMULATOR_CALLBACK_LOSS": "1"}
    with serve(tmp_path / "gateway.log", **env) as (gateway, emulator):
        messages = await watch_to_the_end(gateway, emulator, 1)
        assert messages[-2]["payload"]["data"]["transcodeSummaryUpdates"]["transcodeStatus"] in FINAL
        assert metric(gateway, 'gateway_vod_callbacks_total{result="accepted"}') == 0
        sent = httpx.get(emulator + "/_emulator/stats").json()["callbacks"]
        assert sent["sent"] == 0 and sent["lost"] >= 1
