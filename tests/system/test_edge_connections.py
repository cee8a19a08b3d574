"""The connection cap against a real gateway whose descriptor limit is lowered (``ulimit -n 256``,
set in the child before it starts): more idle connections than the cap get a 503 at once, a
connection opened before the flood is still served, the log holds one line about it (never
asyncio's "out of system resource" flood), and once the idle ones go, new clients are served."""

from __future__ import annotations

import select
import socket
import sys
import time
from pathlib import Path

import pytest

from tests.support.processes import Process, free_port
from tests.system.procs import GatewayProcess, gateway_env

pytestmark = pytest.mark.slow

SOFT = 256  # the child's RLIMIT_NOFILE: its default cap is 256 - 128 = 128
FLOOD = 300
LAUNCH = (
    "import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {soft})); "
    "sys.argv = ['vod-gateway', 'serve', '--emulator', '--port', '{port}']; "
    "runpy.run_module('gateway', run_name='__main__')"
)


class LimitedGateway(GatewayProcess):
    """``serve --emulator`` with a lowered descriptor limit."""

    def __init__(self, log: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        code = LAUNCH.format(soft=SOFT, port=self.port)
        Process.__init__(self, [sys.executable, "-c", code], gateway_env(None, **env), log)
        self.wait_http(self.url + "/healthz")


def get_healthz(sock: socket.socket) -> int:
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while not _whole(data):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else 0


def _whole(data: bytes) -> bool:
    """Whether ``data`` holds a whole response, its body by Content-Length included."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True


def first_status(sock: socket.socket, within: float) -> int:
    """The status the server sends unasked (0: none within ``within`` seconds, or just a close)."""
    readable, _, _ = select.select([sock], [], [], within)
    if not readable:
        return 0
    try:
        data = sock.recv(4096)
    except ConnectionResetError:
        return 0
    return int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else 0


def wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.05)


@pytest.mark.parametrize("asked", [None, "100000"], ids=["default-cap", "asked-beyond-the-descriptors"])
def test_past_the_cap_new_clients_get_503_and_descriptors_never_run_out(
    tmp_path: Path, asked: str | None
) -> None:
    env = {"GATEWAY_HEADER_TIMEOUT": "30"}
    if asked is not None:
        env["GATEWAY_MAX_CONNECTIONS"] = asked
    proc = LimitedGateway(tmp_path / "gateway.log", **env)
    early = socket.create_connection(("127.0.0.1", proc.port), timeout=10)
    idle: list[socket.socket] = []
    try:
        assert get_healthz(early) == 200
        for _ in range(FLOOD):
            idle.append(socket.create_connection(("127.0.0.1", proc.port), timeout=10))
        # before uvicorn's keep-alive timeout (5 s) closes it: one already served still is
        assert get_healthz(early) == 200
        late = socket.create_connection(("127.0.0.1", proc.port), timeout=10)
        assert get_healthz(late) == 503  # a new client, past the cap
        late.close()
        refused = [s for s in idle[-50:] if first_status(s, 2.0) == 503]
        assert len(refused) == 50, "the last 50 of 300 connections should all be past the cap"
        for s in idle:
            s.close()
        idle.clear()

        def served() -> bool:
            with socket.create_connection(("127.0.0.1", proc.port), timeout=10) as fresh:
                return get_healthz(fresh) == 200

        wait_for(served, 10, "a new client served after the idle connections closed")
    finally:
        for s in [*idle, early]:
            s.close()
        proc.stop()
    text = proc.text()
    assert "out of system resource" not in text and "Too many open files" not in text, text[-2000:]
    lines = [ln for ln in text.splitlines() if "connections refused" in ln]
    assert 1 <= len(lines) <= 2, lines  # one line per 10 s, whatever the number refused
    if asked is not None:
        assert "GATEWAY_MAX_CONNECTIONS lowered" in text
    proc.assert_clean_log()
