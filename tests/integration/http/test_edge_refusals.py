"""Refusals above the byte level, over real sockets: an unknown Host (HTTP and WebSocket
handshakes), Apollo's CSRF prevention, and content types matched exactly."""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import pytest

from tests.support.harness import Emulator, Gateway, LogRecords

QUERY = "{ __typename }"


def test_an_unknown_host_is_refused_for_http_and_websockets(
    make_gateway: Callable[..., Gateway], emulator: Emulator
) -> None:
    gw = make_gateway(emulator, GATEWAY_ALLOWED_HOSTS="127.0.0.1,*.example.com")
    assert httpx.post(gw.graphql_url, json={"query": QUERY}).status_code == 200
    assert httpx.get(gw.url + "/healthz", headers={"host": "api.example.com"}).status_code == 200
    rebound = httpx.post(gw.graphql_url, json={"query": QUERY}, headers={"host": "evil.test"})
    assert rebound.status_code == 400

    with socket.create_connection(("127.0.0.1", gw.server.port), timeout=10) as sock:
        sock.sendall(
            b"GET /graphql HTTP/1.1\r\nHost: evil.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 400")


@pytest.mark.parametrize(
    ("method", "headers", "status"),
    [
        ("GET", {}, 400),
        ("GET", {"apollo-require-preflight": "true"}, 200),
        ("GET", {"x-apollo-operation-name": "Q"}, 200),
        ("GET", {"content-type": "application/json"}, 200),
        ("POST", {"content-type": "application/json"}, 200),
        ("POST", {"content-type": "text/plain"}, 400),
        (
            "POST",
            {"content-type": "text/plain", "apollo-require-preflight": "1"},
            400,
        ),  # passes CSRF; not JSON
    ],
)
def test_csrf_prevention_mirrors_apollo(
    make_gateway: Callable[..., Gateway],
    emulator: Emulator,
    gateway_logs: LogRecords,
    method: str,
    headers: dict[str, str],
    status: int,
) -> None:
    gw = make_gateway(emulator, GATEWAY_CSRF_PREVENTION="true")
    if method == "GET":
        response = httpx.get(gw.graphql_url, params={"query": QUERY}, headers=headers)
    else:
        response = httpx.post(gw.graphql_url, content=b'{"query": "{ __typename }"}', headers=headers)
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    if method == "GET" and not headers:
        assert "Cross-Site Request Forgery" in response.json()["errors"][0]["message"]
    assert gateway_logs.errors() == []


def test_csrf_prevention_leaves_the_explorer_page_and_is_off_by_default(
    make_gateway: Callable[..., Gateway], emulator: Emulator
) -> None:
    on = make_gateway(emulator, GATEWAY_CSRF_PREVENTION="true")
    assert httpx.get(on.graphql_url, headers={"accept": "text/html"}).status_code == 200
    off = make_gateway(emulator)
    assert httpx.get(off.graphql_url, params={"query": QUERY}).status_code == 200


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 200),
        ("application/json; charset=utf-8", 200),
        ("application/jsonx", 400),
        ("application/json-seq", 400),
        ("text/json", 400),
    ],
)
def test_content_types_are_matched_exactly(
    make_gateway: Callable[..., Gateway], emulator: Emulator, content_type: str, status: int
) -> None:
    gw = make_gateway(emulator)
    response = httpx.post(
        gw.graphql_url, content=b'{"query": "{ __typename }"}', headers={"content-type": content_type}
    )
    assert response.status_code == status, response.text
    if status == 400:
        assert "Unsupported content type" in response.json()["errors"][0]["message"]
