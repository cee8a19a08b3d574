"""Start the emulator, the gateway and baseline servers as subprocesses on loopback (with the suite's
process helper, :mod:`tests.support.processes`; bench/ is dev-only)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from gateway.emulator.config import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET
from tests.support.processes import Process, free_port

__all__ = ["asgi_app", "emulator", "free_port", "gateway", "process"]

BIN = Path(sys.executable).parent


@contextmanager
def process(args: Sequence[str], probe: str, env: dict[str, str] | None = None) -> Iterator[int]:
    """Runs ``args`` (its output in a temporary log) until the block ends; ready once ``probe``
    gives any HTTP answer. Yields the PID."""
    proc = Process(args, {**os.environ, **(env or {})})
    try:
        proc.wait_http(probe, status=None)
        yield proc.pid
    finally:
        proc.stop(grace=10)
        proc.log.unlink(missing_ok=True)


@contextmanager
def emulator(
    latency: str = "20-60",
    qps: int = 15,
    catalogue: int = 5000,
    faults: str = "none",
    extra: Sequence[str] = (),
) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [str(BIN / "vod-gateway"), "emulator", "--port", str(port), "--latency", latency]
    args += ["--qps", str(qps), "--catalogue", str(catalogue), "--faults", faults, *extra]
    with process(args, url + "/_emulator/stats"):
        yield url


@contextmanager
def gateway(
    upstream: str, port: int | None = None, args: Sequence[str] = (), **env: str
) -> Iterator[tuple[str, int]]:
    """``vod-gateway serve`` on ``upstream`` (with ``args``, e.g. ``--workers 2``): its URL and PID."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    variables = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEMO_ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEMO_ACCESS_KEY_SECRET,
        "VOD_ENDPOINT": upstream,
        "GATEWAY_LOG_LEVEL": "WARNING",
        **env,
    }
    command = [str(BIN / "vod-gateway"), "serve", "--port", str(port), *args]
    with process(command, url + "/healthz", variables) as pid:
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
