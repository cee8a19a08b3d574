"""The end of a shutdown, in process: a request task still running when GATEWAY_SHUTDOWN_TIMEOUT
is up is cut off with the one warning line, also when its connection is already gone (an app that
ignores the disconnect), and its cancellation logs no traceback."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal

import pytest

from gateway.config.settings import Settings
from gateway.http.server import build_server

Scope = dict[str, object]


async def hangs_on(scope: Scope, receive: object, send: object) -> None:
    """Answers the lifespan; a request waits for ever, whatever the client does."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()  # type: ignore[operator]
            kind = message["type"].removeprefix("lifespan.")
            await send({"type": f"lifespan.{kind}.complete"})  # type: ignore[operator]
            if kind == "shutdown":
                return
    await asyncio.Event().wait()


def test_a_request_that_outlives_its_connection_is_cut_off_with_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = dataclasses.replace(Settings(), shutdown_timeout=0.3, shutdown_drain=0.0)

    async def run() -> tuple[int, int]:
        server, sock = build_server(hangs_on, settings, "127.0.0.1", 0)
        port = sock.getsockname()[1]
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        state = server.server_state
        while not state.tasks:
            await asyncio.sleep(0.01)
        writer.close()
        while state.connections:  # gone, while its request task goes on
            await asyncio.sleep(0.01)
        tasks = len(state.tasks)
        server.handle_exit(signal.SIGTERM, None)
        await serving
        return tasks, len(state.tasks)

    with caplog.at_level(logging.INFO):
        running, left = asyncio.run(run())
    assert (running, left) == (1, 0)
    cut = [r for r in caplog.records if "cutting off connections" in r.getMessage()]
    assert [r.fields for r in cut] == [{"connections": 0, "requests": 1, "seconds": 0.3}]  # type: ignore[attr-defined]
    assert not [r for r in caplog.records if r.exc_info], "a traceback for the cancelled request"
