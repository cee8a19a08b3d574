"""A gateway as a real subprocess (``python -m gateway serve``, the worktree's code) on loopback,
for tests of what only a real server shows: sockets, signals, exit codes, logs."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.harness import CANARY, Process, free_port
from tests.support.paths import ROOT


def gateway_env(emulator_url: str | None = None, **env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "VOD_", "ALIBABA_CLOUD_"))}
    clean["PYTHONPATH"] = str(ROOT)
    clean["PYTHONUNBUFFERED"] = "1"
    if emulator_url is not None:
        clean.update(
            ALIBABA_CLOUD_ACCESS_KEY_ID=CANARY.access_key_id,
            ALIBABA_CLOUD_ACCESS_KEY_SECRET=CANARY.secret,
            ALIBABA_CLOUD_SECURITY_TOKEN=CANARY.security_token or "",
            VOD_ENDPOINT=emulator_url,
        )
    clean.update(env)
    return clean


class GatewayProcess(Process):
    def __init__(self, log: Path, emulator_url: str | None = None, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "gateway", "serve", "--port", str(self.port)]
        if emulator_url is None:
            args.append("--emulator")
        super().__init__(args, gateway_env(emulator_url, **env), log)
        self.wait_http(self.url + "/healthz")

    def log_lines(self) -> list[str]:
        """Every line the process wrote, stdout and stderr (the banner is not JSON)."""
        return self.text().splitlines()

    def assert_clean_log(self) -> None:
        """No traceback, and every line past the banner is one JSON object."""
        text = self.text()
        assert "Traceback" not in text, text[-3000:]
        for line in self.log_lines():
            if line.startswith("{"):
                json.loads(line)
            else:
                assert not line or line.startswith(("vod-gateway", "  ")), f"not a JSON log line: {line!r}"

    def wait_exit(self, seconds: float) -> int:
        deadline = time.monotonic() + seconds
        while self.popen.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.popen.poll() is not None, f"still running {seconds} s later"
        return self.popen.returncode


@contextmanager
def gateway(log: Path, emulator_url: str | None = None, **env: str) -> Iterator[GatewayProcess]:
    proc = GatewayProcess(log, emulator_url, **env)
    try:
        yield proc
    finally:
        proc.stop()
