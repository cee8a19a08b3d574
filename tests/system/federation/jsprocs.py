"""Node.js processes from ``tests/system/federation/js``: started on loopback, ready when they print
``READY <url>``, always stopped by the fixture that started them."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.processes import Process, ProcessFailed

HERE = Path(__file__).resolve().parent
JS = HERE / "js"
READY_TIMEOUT = 30.0
MISSING_AT = (5, 17)  # where the two nonexistent IDs sit among the 30 catalog videos


class NodeProcess(Process):
    """``node js/<script> --port 0 ...``; ``url`` is what it printed after ``READY``."""

    url: str

    def stop(self, grace: float = 10.0) -> None:
        super().stop(grace)


def node_env(**extra: str) -> dict[str, str]:
    """The environment without APOLLO_KEY & co.: nothing may report usage to, or fetch a schema
    from, the internet."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APOLLO_")}
    return {**env, **extra}


def start_node(node: str, script: str, args: list[str], env: dict[str, str], log: Path) -> NodeProcess:
    """Starts ``js/<script> --port 0 ...`` and waits for its ready line (stdout and stderr go to ``log``)."""
    process = NodeProcess([node, str(JS / script), "--port", "0", *args], node_env(**env), log, cwd=HERE)
    try:
        process.url = process.wait_line("READY ", READY_TIMEOUT)
    except ProcessFailed as exc:
        process.stop()
        raise RuntimeError(f"{script} did not start: {exc}") from None
    return process
