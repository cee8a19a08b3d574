"""Every route of the app either is deliberately public or refuses a caller without an API key:
a route added without ``RequireApiKey`` fails here, whatever its path."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway.app import create_app
from tests.support.harness import Emulator, gateway_settings
from tests.support.server import ThreadedServer

KEY = "route-walk-key"
PUBLIC = {"/healthz", "/readyz", "/metrics", "/graphql/static"}
"""Paths that need no key: probes, metrics and the explorer's static files."""


def walk(routes: list[BaseRoute]) -> list[BaseRoute]:
    return [r for r in routes if isinstance(r, Route | WebSocketRoute | Mount)]


@pytest.fixture
def served(emulator: Emulator) -> Iterator[tuple[ThreadedServer, list[BaseRoute]]]:
    app = create_app(gateway_settings(emulator.url, GATEWAY_API_KEYS=KEY))
    server = ThreadedServer(app)
    server.start()
    yield server, walk(app.routes)
    server.stop()


async def _websocket_refused(url: str) -> tuple[int, str]:
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_every_route_is_public_or_refuses_a_caller_without_a_key(
    served: tuple[ThreadedServer, list[BaseRoute]], emulator: Emulator
) -> None:
    server, routes = served
    paths = {r.path for r in routes}  # type: ignore[attr-defined]
    assert PUBLIC < paths  # the public list names real routes only
    checked = 0
    async with httpx.AsyncClient(base_url=server.url) as client:
        for route in routes:
            path: str = route.path  # type: ignore[attr-defined]
            if path in PUBLIC:
                continue
            checked += 1
            if isinstance(route, WebSocketRoute):
                ws_url = server.url.replace("http://", "ws://") + path
                assert await _websocket_refused(ws_url) == (4403, "Forbidden")
                continue
            for method in sorted(getattr(route, "methods", None) or {"GET", "POST", "PUT", "DELETE"}):
                response = await client.request(
                    method, path, json={"query": "{ __typename }"}, headers={"accept": "application/json"}
                )
                assert response.status_code == 401, (method, path, response.text)
                assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
                assert response.headers["www-authenticate"] == 'Bearer realm="vod-gateway"'
    assert checked == 2  # /graphql over HTTP and over WebSocket
    assert emulator.state.stats.calls == 0


async def test_the_explorer_page_and_the_probes_need_no_key(
    served: tuple[ThreadedServer, list[BaseRoute]],
) -> None:
    server, _ = served
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200
        page = await client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        authorised = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"authorization": f"Bearer {KEY}"}
        )
        assert authorised.json() == {"data": {"__typename": "Query"}}
