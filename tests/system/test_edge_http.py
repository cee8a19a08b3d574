"""The byte-level edge of a real gateway process (``serve --emulator``), over raw sockets: header
block and URL caps (431, 414), for WebSocket handshakes too; the header- and body-read deadlines
(408, or a close for a connection that never spoke). Each answer comes in bounded time, memory
stays flat under a 90 MB header push, and the log stays JSON without a traceback."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.system.procs import GatewayProcess, gateway

pytestmark = pytest.mark.slow

TIMEOUT = 2.0  # the test gateway's header and body deadlines, seconds
UPGRADE = (
    "GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: graphql-transport-ws\r\n"
)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    log = tmp_path_factory.mktemp("edge-http") / "gateway.log"
    env = {"GATEWAY_HEADER_TIMEOUT": str(TIMEOUT), "GATEWAY_BODY_TIMEOUT": str(TIMEOUT)}
    with gateway(log, **env) as proc:
        yield proc
        proc.assert_clean_log()


def connect(gw: GatewayProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def answer(sock: socket.socket, within: float = 10.0) -> bytes:
    """Everything the server sends until it closes (or ``within`` seconds pass)."""
    deadline = time.monotonic() + within
    data = b""
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not readable:
            break
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def status(data: bytes) -> int:
    assert data.startswith(b"HTTP/1.1 "), data[:200]
    return int(data[9:12])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_header_pushed_without_end_is_431_and_memory_stays_flat(gw: GatewayProcess) -> None:
    before = rss_kb(gw.popen.pid)
    sock = connect(gw)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
    chunk, pushed = b"a" * 65536, 0
    while pushed < 90 * 1024 * 1024:  # the 90 MB, or until the gateway answers
        readable, writable, _ = select.select([sock], [sock], [], 10)
        if readable:
            break
        assert writable, "the gateway neither reads nor answers"
        try:
            pushed += sock.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            break
    data = answer(sock)
    sock.close()
    assert status(data) == 431 and b"BAD_REQUEST" in data
    assert pushed < 4 * 1024 * 1024, f"refused only after {pushed} bytes"
    assert rss_kb(gw.popen.pid) - before < 20 * 1024


@pytest.mark.parametrize(
    ("request_bytes", "expected"),
    [
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 100) for i in range(200))
            + b"\r\n",
            431,
        ),
        (b"GET /healthz?" + b"q" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Fits: " + b"v" * 15000 + b"\r\n\r\n", 200),
        (UPGRADE.encode() + b"X-Big: " + b"v" * 9000 + b"\r\n\r\n", 431),  # websockets would stay silent
        (UPGRADE.encode() + b"".join(b"X-%d: 1\r\n" % i for i in range(130)) + b"\r\n", 431),
        (UPGRADE.encode() + b"X-Big: " + b"v" * 20000 + b"\r\n\r\n", 431),
        (UPGRADE.replace("/graphql", "/graphql?" + "q" * 9000).encode() + b"\r\n", 414),
        (UPGRADE.encode() + b"X-Fits: " + b"v" * 8000 + b"\r\n\r\n", 101),
    ],
    ids=[
        "headers-20KB",
        "url-9KB",
        "headers-15KB-fit",
        "ws-line-9KB",
        "ws-130-headers",
        "ws-headers-20KB",
        "ws-url-9KB",
        "ws-line-8KB-fits",
    ],
)
def test_oversized_heads_are_answered_then_closed(
    gw: GatewayProcess, request_bytes: bytes, expected: int
) -> None:
    sock = connect(gw)
    sock.sendall(request_bytes)
    data = answer(sock, within=TIMEOUT * 3) if expected != 101 else sock.recv(4096)
    sock.close()
    assert status(data) == expected, data[:300]
    if expected in (414, 431):
        assert b"connection: close" in data.lower()


def test_slowloris_is_cut_off_at_the_header_deadline(gw: GatewayProcess) -> None:
    sock = connect(gw)
    started = time.monotonic()
    sock.sendall(b"GET /healthz HTTP/1.1\r\n")
    line = 0
    while time.monotonic() - started < TIMEOUT * 5:
        readable, _, _ = select.select([sock], [], [], TIMEOUT / 4)  # one header line per tick
        if readable:
            break
        sock.sendall(b"X-%d: slow\r\n" % line)
        line += 1
    data = answer(sock)
    sock.close()
    assert status(data) == 408 and time.monotonic() - started < TIMEOUT * 3


def test_a_connection_that_never_speaks_is_closed(gw: GatewayProcess) -> None:
    sock = connect(gw)
    started = time.monotonic()
    assert answer(sock, within=TIMEOUT * 5) == b""  # closed without a word: there was no request
    assert time.monotonic() - started < TIMEOUT * 3
    sock.close()


def test_a_dribbled_body_is_cut_off_at_the_body_deadline(gw: GatewayProcess) -> None:
    sock = connect(gw)
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    sock.sendall(head)
    started = time.monotonic()
    while time.monotonic() - started < TIMEOUT * 5:
        readable, _, _ = select.select([sock], [], [], TIMEOUT / 4)  # one byte per tick
        if readable:
            break
        sock.sendall(b" ")
    data = answer(sock)
    sock.close()
    assert status(data) == 408 and time.monotonic() - started < TIMEOUT * 3


def test_keep_alive_requests_each_get_their_own_header_deadline(gw: GatewayProcess) -> None:
    sock = connect(gw)
    for _ in range(3):
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b'"ok"' not in data:
            chunk = sock.recv(4096)
            assert chunk, data
            data += chunk
        assert status(data) == 200
    sock.close()


def test_refusals_are_logged_once_per_status_with_their_count(tmp_path: Path) -> None:
    """Each status gets a line at once; more of the same within 10 s add to the next line's count
    instead of a line each (a flood of bad requests can't flood the log)."""
    requests = {
        431: b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 20000 + b"\r\n\r\n",
        414: b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        400: b"NOT HTTP AT ALL\r\n\r\n",
    }
    with gateway(tmp_path / "gw.log") as proc:
        for expected, request_bytes in [*requests.items(), *[(431, requests[431])] * 5]:
            sock = connect(proc)
            sock.sendall(request_bytes)
            data = answer(sock)
            sock.close()
            assert status(data) == expected
        lines = [json.loads(line) for line in proc.log_lines() if line.startswith("{")]
        refused = [(e["status"], e["refused"]) for e in lines if e["msg"] == "refused"]
        assert sorted(refused) == [(400, 1), (414, 1), (431, 1)]
        assert any("at most 16384 bytes" in e.get("reason", "") for e in lines if e["msg"] == "refused")
        proc.assert_clean_log()
