"""The deployment files' health checks (compose and Dockerfile), run as the probes they are (a separate
Python process) against a gateway and an emulator on loopback."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

from tests.support.harness import Emulator, Gateway
from tests.unit.test_compose import compose, dockerfile, exec_form


def probe_command(test: list[str], port: int) -> list[str]:
    """A compose or Dockerfile health check, pointed at ``port`` and run with this Python."""
    assert test[:2] == ["CMD", "python"]
    return [sys.executable, *[re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{port}", a) for a in test[2:]]]


def test_health_checks_pass_on_a_running_gateway_and_emulator(
    make_emulator: Callable[..., Emulator], make_gateway: Callable[..., Gateway]
) -> None:
    emulator = make_emulator()
    gateway = make_gateway(emulator)
    services = compose("docker-compose.yml")["services"]
    runtime = dockerfile()[-1]
    image_check = ["CMD", *exec_form(next(a for i, a in runtime if i == "HEALTHCHECK").split(" CMD ", 1)[1])]
    for test, server in (
        (image_check, gateway),
        (services["gateway"]["healthcheck"]["test"], gateway),
        (services["emulator"]["healthcheck"]["test"], emulator),
    ):
        port = server.server.port
        assert subprocess.run(probe_command(test, port), timeout=20).returncode == 0
    emulator_check = probe_command(services["emulator"]["healthcheck"]["test"], gateway.server.port)
    assert subprocess.run(emulator_check, capture_output=True, timeout=20).returncode != 0  # 404 there
