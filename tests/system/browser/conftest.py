"""Fixtures for the headless-browser tests: a running gateway and the tools to drive Chromium."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import ROOT
from tests.support.processes import Process, ProcessFailed, free_port

HERE = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
PLAYWRIGHT = HERE / "node_modules" / "playwright-core"
SETUP_HINT = "apt-get install -y chromium && (cd tests/system/browser && npm ci)"
SCREENSHOT = ROOT / "test-artifacts" / "graphiql.png"  # and graphiql-subscription.png
API_KEY_SCREENSHOT = ROOT / "test-artifacts" / "graphiql-api-key.png"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: end-to-end tests in headless Chromium")


@pytest.fixture(scope="session")
def browser_tools() -> Path:
    """The Node.js binary, once Chromium and playwright-core are known to be installed."""
    node = shutil.which("node")
    if node is None:
        pytest.skip(f"node is not installed (needed to drive Chromium; then {SETUP_HINT})")
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: {SETUP_HINT}")
    if not PLAYWRIGHT.is_dir():
        pytest.skip(f"playwright-core is not installed in tests/system/browser: {SETUP_HINT}")
    return Path(node)


@pytest.fixture(scope="session")
def graphiql_assets() -> None:
    """Builds the GraphiQL bundle if it is missing or stale (a no-op when up to date)."""
    build = subprocess.run(
        ["bash", str(ROOT / "graphiql" / "build.sh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if build.returncode != 0:
        pytest.fail(f"graphiql/build.sh failed:\n{build.stdout}\n{build.stderr}")


@dataclass(frozen=True)
class E2EGateway:
    url: str
    emulator_url: str | None = None  # its clock can be advanced (POST /_emulator/clock)
    api_key: str | None = None


@pytest.fixture(scope="session")
def gateway(graphiql_assets: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EGateway]:
    """A gateway serving the explorer on its embedded emulator.

    GRAPHIQL_E2E_URL points at one already running (and GRAPHIQL_E2E_EMULATOR_URL at its
    emulator, if known); otherwise the real gateway is started on free loopback ports.
    """
    if url := os.environ.get("GRAPHIQL_E2E_URL"):
        yield E2EGateway(url.rstrip("/"), os.environ.get("GRAPHIQL_E2E_EMULATOR_URL") or None)
        return
    with _running_gateway(tmp_path_factory) as started:
        yield started


@pytest.fixture(scope="session")
def gateway_with_api_key(
    graphiql_assets: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[E2EGateway]:
    """A gateway started with GATEWAY_API_KEYS: the page loads, GraphQL needs the key."""
    with _running_gateway(tmp_path_factory, api_key=f"e2e-{secrets.token_hex(8)}") as started:
        yield started


@contextlib.contextmanager
def _running_gateway(
    tmp_path_factory: pytest.TempPathFactory, api_key: str | None = None
) -> Iterator[E2EGateway]:
    if not (ROOT / "gateway" / "app.py").is_file() or not (ROOT / "gateway" / "cli.py").is_file():
        pytest.skip("gateway/app.py and gateway/cli.py are not there yet: no gateway to test")
    executable = Path(sys.executable).parent / "vod-gateway"
    if not executable.is_file():
        pytest.skip(f"{executable} is not installed (pip install -e .)")

    port, emulator_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("gateway") / "gateway.log"
    command = [str(executable), "serve", "--emulator", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--emulator-port", str(emulator_port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_API_KEYS")}
    if api_key:
        env["GATEWAY_API_KEYS"] = api_key
    process = Process(command, env, log_path, cwd=ROOT)
    try:
        try:
            process.wait_http(f"{url}/healthz", seconds=30)
        except ProcessFailed as exc:
            pytest.fail(str(exc))
        yield E2EGateway(url, f"http://127.0.0.1:{emulator_port}", api_key)
    finally:
        process.stop(grace=10)


@pytest.fixture(scope="session")
def graphiql_report(browser_tools: Path, gateway: E2EGateway) -> dict[str, Any]:
    """graphiql.e2e.mjs against the gateway: its JSON report (see the script's header)."""
    return _run_e2e(browser_tools, gateway, SCREENSHOT)


@pytest.fixture(scope="session")
def graphiql_api_key_report(browser_tools: Path, gateway_with_api_key: E2EGateway) -> dict[str, Any]:
    """The same, on a gateway that requires an API key (typed into the headers editor)."""
    return _run_e2e(browser_tools, gateway_with_api_key, API_KEY_SCREENSHOT)


def _run_e2e(node: Path, gateway: E2EGateway, screenshot: Path) -> dict[str, Any]:
    command = [
        str(node),
        str(HERE / "graphiql.e2e.mjs"),
        "--url",
        gateway.url,
        "--screenshot",
        str(screenshot),
    ]
    if gateway.emulator_url:
        command += ["--emulator-url", gateway.emulator_url]
    if gateway.api_key:
        command += ["--api-key", gateway.api_key]
    completed = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "CHROMIUM_PATH": str(CHROMIUM)},
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    if not lines:
        pytest.fail(f"graphiql.e2e.mjs printed no report:\n{completed.stderr}")
    report: dict[str, Any] = json.loads(lines[-1])
    report["stderr"] = completed.stderr
    return report
