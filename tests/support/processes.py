"""Separate processes for system tests and benchmarks: start one with its environment and a log file,
wait until it answers (an HTTP URL, a TCP port, a line it prints), stop it (SIGTERM, then SIGKILL).

Every failure to come up says what was awaited and ends with the tail of the process's log. Also the
gateway itself as a process (``python -m gateway serve``, the worktree's code): :class:`GatewayProcess`
and :func:`gateway`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import httpx

from tests.support.harness import CANARY
from tests.support.paths import ROOT
from tests.support.waits import NeverHappened, eventually

__all__ = [
    "ROOT",
    "GatewayProcess",
    "Process",
    "ProcessFailed",
    "free_port",
    "gateway",
    "gateway_env",
]

TAIL = 3000  # characters of the log shown when a process fails to come up


class ProcessFailed(RuntimeError):
    """A process exited, or did not answer, before it was ready."""


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Process:
    """A subprocess with stdout and stderr in ``log`` (a temporary file if none is given); a context
    manager that stops it. Stopped by its own PID only."""

    def __init__(
        self,
        args: Sequence[str],
        env: dict[str, str] | None = None,
        log: Path | None = None,
        *,
        cwd: Path | None = None,
    ) -> None:
        self.args = [str(a) for a in args]
        if log is None:
            fd, name = tempfile.mkstemp(prefix="process-", suffix=".log")
            os.close(fd)
            log = Path(name)
        self.log = log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                self.args,
                env=os.environ.copy() if env is None else env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def text(self) -> str:
        """What the process printed so far."""
        return self.log.read_text(errors="replace")

    def tail(self, chars: int = TAIL) -> str:
        return self.text()[-chars:]

    def _until(self, ready: Callable[[], object], what: str, seconds: float) -> None:
        def answered() -> object:
            if self.popen.poll() is not None:
                raise ProcessFailed(
                    f"{self.args[0]} exited with {self.popen.returncode} before {what}:\n{self.tail()}"
                )
            return ready()

        try:
            eventually(answered, seconds, what)
        except NeverHappened:
            raise ProcessFailed(
                f"{self.args[0]}: {what} within {seconds} s did not happen:\n{self.tail()}"
            ) from None

    def wait_http(self, url: str, seconds: float = 20.0, *, status: int | None = 200) -> None:
        """Until ``url`` answers ``status`` (any HTTP answer if ``status`` is None)."""

        def answers() -> bool:
            try:
                response = httpx.get(url, timeout=1.0)
            except httpx.HTTPError:
                return False
            return status is None or response.status_code == status

        self._until(answers, f"{url} answering {status or 'anything'}", seconds)

    def wait_port(self, port: int, host: str = "127.0.0.1", seconds: float = 20.0) -> None:
        """Until ``host:port`` accepts a TCP connection."""

        def accepts() -> bool:
            try:
                with socket.create_connection((host, port), timeout=1.0):
                    return True
            except OSError:
                return False

        self._until(accepts, f"{host}:{port} accepting connections", seconds)

    def wait_line(self, prefix: str, seconds: float = 20.0) -> str:
        """Until the process prints a line starting with ``prefix``; that line, without the prefix."""
        found: list[str] = []

        def printed() -> bool:
            found[:] = [line for line in self.text().splitlines() if line.startswith(prefix)]
            return bool(found)

        self._until(printed, f"a line starting {prefix!r}", seconds)
        return found[0].removeprefix(prefix).strip()

    def wait_exit(self, seconds: float) -> int:
        """The exit code, once the process has exited by itself within ``seconds``."""
        eventually(lambda: self.popen.poll() is not None, seconds, f"{self.args[0]} exiting")
        return self.popen.returncode

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it is still running ``grace`` seconds later."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    def __enter__(self) -> Process:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def gateway_env(emulator_url: str | None = None, **env: str) -> dict[str, str]:
    """This environment without GATEWAY_*, VOD_* and ALIBABA_CLOUD_*; the worktree on PYTHONPATH; and,
    with ``emulator_url``, the canary STS credentials (tests/secrets_guard.py)."""
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
    """``python -m gateway serve`` on a free loopback port, on ``emulator_url`` (else ``--emulator``);
    ready once /healthz answers."""

    def __init__(self, log: Path, emulator_url: str | None = None, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "gateway", "serve", "--port", str(self.port)]
        if emulator_url is None:
            args.append("--emulator")
        super().__init__(args, gateway_env(emulator_url, **env), log)
        try:
            self.wait_http(self.url + "/healthz")
        except BaseException:
            self.stop()
            raise

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


@contextmanager
def gateway(log: Path, emulator_url: str | None = None, **env: str) -> Iterator[GatewayProcess]:
    proc = GatewayProcess(log, emulator_url, **env)
    try:
        yield proc
    finally:
        proc.stop()
