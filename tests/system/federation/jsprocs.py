"""Node.js processes from ``tests/system/federation/js``: started on loopback, ready when they print
``READY <url>``, always stopped by the fixture that started them."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
JS = HERE / "js"
READY_TIMEOUT = 30.0
MISSING_AT = (5, 17)  # where the two nonexistent IDs sit among the 30 catalog videos


class NodeProcess:
    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def node_env(**extra: str) -> dict[str, str]:
    """The environment without APOLLO_KEY & co.: nothing may report usage to, or fetch a schema
    from, the internet."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APOLLO_")}
    return {**env, **extra}


def start_node(node: str, script: str, args: list[str], env: dict[str, str], log: Path) -> NodeProcess:
    """Starts ``js/<script> --port 0 ...`` and waits for its ready line (stdout and stderr go to ``log``)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [node, str(JS / script), "--port", "0", *args],
            cwd=HERE,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=node_env(**env),
        )
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        text = log.read_text(errors="replace")
        ready = [line for line in text.splitlines() if line.startswith("READY ")]
        if ready:
            return NodeProcess(process, ready[0].removeprefix("READY ").strip(), log)
        if process.poll() is not None or time.monotonic() > deadline:
            NodeProcess(process, "", log).stop()
            raise RuntimeError(f"{script} did not start (exit code {process.returncode}):\n{text}")
        time.sleep(0.05)
