from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.support.server import ThreadedServer


def tiny_app(events: list[str]) -> Starlette:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    return Starlette(routes=[Route("/", hello)], lifespan=lifespan)


def test_serves_any_asgi_app_on_a_free_port() -> None:
    events: list[str] = []
    with ThreadedServer(tiny_app(events)) as server:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(server.url).text == "hello"
        assert events == ["startup"]
        port = server.port
    assert events == ["startup", "shutdown"]
    with pytest.raises(RuntimeError):
        server.port  # noqa: B018
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_two_servers_side_by_side_and_stop_is_idempotent() -> None:
    a, b = ThreadedServer(tiny_app([])), ThreadedServer(tiny_app([]))
    with a, b:
        assert a.port != b.port
        assert httpx.get(b.url).text == "hello"
    a.stop()


def test_cannot_start_twice() -> None:
    with ThreadedServer(tiny_app([])) as server, pytest.raises(RuntimeError):
        server.start()


def test_startup_failure_is_reported() -> None:
    @contextlib.asynccontextmanager
    async def failing(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("no")
        yield

    with pytest.raises(RuntimeError, match="failed to start"):
        ThreadedServer(Starlette(lifespan=failing)).start()
