"""Fixtures for the client-library tests: a gateway on a frozen emulator (its time moves only when a
script advances its clock), and a runner for the Node scripts in ``js/`` that returns their report."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from gateway.emulator.catalogue import Catalogue
from gateway.emulator.model import ALL_SUCCEEDED, PROCESSING
from tests.support.clock import ManualClock
from tests.support.harness import Emulator, gateway_settings
from tests.support.node import node_with
from tests.support.server import ThreadedServer

HERE = Path(__file__).resolve().parent
SETUP_HINT = "run `make client-deps` (or `cd tests/clients && npm ci`)"
API_KEY = "client-tests-key-0123456789"


@dataclass(frozen=True)
class Target:
    url: str  # the gateway's /graphql
    emulator: Emulator
    processing: list[str]
    done: str
    missing: str
    key: str | None = None


@pytest.fixture(scope="session")
def node() -> str:
    return node_with(HERE / "node_modules" / "@apollo" / "client", "the client tests", SETUP_HINT)


@pytest.fixture
def target(make_emulator: Callable[..., Emulator]) -> Iterator[Callable[..., Target]]:
    servers: list[ThreadedServer] = []

    def start(**env: str) -> Target:
        emulator = make_emulator()
        emulator.state.catalogue = Catalogue.generate(600, 1, ManualClock())
        env.setdefault("GATEWAY_POLL_INTERVAL", "0.05")
        env.setdefault("GATEWAY_LOG_LEVEL", "WARNING")
        server = ThreadedServer(create_app(gateway_settings(emulator.url, **env)))
        server.start()
        servers.append(server)
        key = env.get("GATEWAY_API_KEYS")
        return Target(
            server.url + "/graphql",
            emulator,
            emulator.ids(PROCESSING, 2),
            emulator.ids(ALL_SUCCEEDED, 1)[0],
            emulator.missing_id,
            key,
        )

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def run_client(node: str) -> Callable[..., dict[str, Any]]:
    """``run_client("apollo.mjs", target, only=...)``: the script's report, each case's result by
    name (``only``: those cases; a subscription case wants a fresh emulator, whose time it moves)."""

    def run(script: str, target: Target, only: str | None = None) -> dict[str, Any]:
        command = [
            node,
            str(HERE / "js" / script),
            "--url", target.url,
            "--emulator", target.emulator.url,
            "--processing", json.dumps(target.processing),
            "--done", target.done,
            "--missing", target.missing,
        ]  # fmt: skip
        if target.key:
            command += ["--key", target.key]
        if only:
            command += ["--only", only]
        completed = subprocess.run(
            command, cwd=HERE, capture_output=True, text=True, timeout=300, check=False
        )
        lines = completed.stdout.strip().splitlines()
        assert lines, f"{script} printed nothing:\n{completed.stderr}"
        report: dict[str, Any] = json.loads(lines[-1])
        failed = {name: r["failed"] for name, r in report.items() if isinstance(r, dict) and "failed" in r}
        assert not failed, f"{script}: {json.dumps(failed, indent=1)}\n{completed.stderr[-3000:]}"
        return report

    return run
