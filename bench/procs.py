"""Start the emulator, the gateway and baseline servers as subprocesses on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from gateway.emulator.config import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def process(args: Sequence[str], probe: str, env: dict[str, str] | None = None) -> Iterator[int]:
    proc = subprocess.Popen(
        list(args),
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(probe, proc)
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def emulator(
    latency: str = "20-60", qps: int = 15, catalogue: int = 5000, faults: str = "none"
) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [str(BIN / "vod-gateway"), "emulator", "--port", str(port), "--latency", latency]
    args += ["--qps", str(qps), "--catalogue", str(catalogue), "--faults", faults]
    with process(args, url + "/_emulator/stats"):
        yield url


@contextmanager
def gateway(upstream: str, **env: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    variables = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEMO_ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEMO_ACCESS_KEY_SECRET,
        "VOD_ENDPOINT": upstream,
        "GATEWAY_LOG_LEVEL": "WARNING",
        **env,
    }
    args = [str(BIN / "vod-gateway"), "serve", "--port", str(port)]
    with process(args, url + "/healthz", variables) as pid:
        yield url + "/graphql", pid


@contextmanager
def asgi_app(target: str, http: str = "httptools") -> Iterator[str]:
    """Serve ``module:app`` with uvicorn (asyncio loop, httptools unless ``http`` names another
    protocol: ``h11``, or a class such as ``gateway.http.protocol:EdgeProtocol``)."""
    port = free_port()
    args = [str(BIN / "uvicorn"), target, "--port", str(port), "--loop", "asyncio", "--http", http]
    args += ["--log-level", "warning", "--no-access-log"]
    with process(args, f"http://127.0.0.1:{port}/healthz"):
        yield f"http://127.0.0.1:{port}/graphql"
