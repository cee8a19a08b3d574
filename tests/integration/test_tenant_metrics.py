"""Per-tenant metrics name the tenant, never its key; a key sent in connection_init is the
subscription's tenant too."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
from websockets.asyncio.client import connect

from tests.support.harness import Emulator, Gateway

KEYS = "web-key-0001 name=web,batch-key-0002 weight=2"


def samples(gateway: Gateway, metric: str) -> dict[str, float]:
    text = httpx.get(gateway.url + "/metrics").text
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(metric + "{"):
            labels, value = line.rsplit(" ", 1)
            found[labels[len(metric) :]] = float(value)
    return found


async def test_served_ids_are_counted_by_tenant_name_or_digest(
    emulator: Emulator, make_gateway: Callable[..., Gateway]
) -> None:
    gateway = make_gateway(emulator, GATEWAY_API_KEYS=KEYS)
    ids = emulator.ids("CompleteAllSucc", 3)
    query = "query($v: [ID!]!) { transcodeSummaries(videoIds: $v) { videoId } }"
    web = gateway.query(query, {"v": ids[:2]}, headers={"authorization": "Bearer web-key-0001"})
    batch = gateway.query(query, {"v": ids[2:]}, headers={"authorization": "Bearer batch-key-0002"})
    assert "errors" not in web and "errors" not in batch
    served = samples(gateway, "gateway_tenant_ids_served_total")
    assert served['{tenant="web"}'] == 2
    [(label, count)] = [(k, v) for k, v in served.items() if k != '{tenant="web"}']
    assert count == 1 and len(label) == len('{tenant="12345678"}')
    text = httpx.get(gateway.url + "/metrics").text
    assert "web-key-0001" not in text and "batch-key-0002" not in text

    # a browser's subscription brings its key in connection_init: its first lookup is that tenant's
    ws_url = gateway.url.replace("http://", "ws://") + "/graphql"
    fresh = emulator.ids("CompleteAllSucc", 4)[3]
    async with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer web-key-0001"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        subscribe = {
            "query": "subscription($v: [ID!]!) { transcodeSummaryUpdates(videoIds: $v) { videoId } }"
        }
        await ws.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {**subscribe, "variables": {"v": [fresh]}}}
            )
        )
        types = [json.loads(await ws.recv())["type"] for _ in range(2)]
    assert types == ["next", "complete"]
    assert samples(gateway, "gateway_tenant_ids_served_total")['{tenant="web"}'] == 3
