"""``serve --workers N``: N gateway processes on one port, sharing the account through Redis.

The supervisor (this process) binds the listening socket once and starts N workers, each a plain
``serve`` that inherits the socket (``--listen-fd``) and accepts from it; the kernel hands each
connection to one of them. The limiter, summary cache and callback fan-out are on Redis, as for
replicas, so the account's ``VOD_QPS`` holds across all of them; without ``GATEWAY_REDIS_URL``
each worker would keep a limit of its own, and ``--workers`` above 1 is refused
(:func:`check_workers`).

- A worker that dies is started again; one that dies within :data:`STABLE_AFTER` seconds of its
  start waits before its next start, twice as long each time (up to :data:`MAX_BACKOFF`).
- A worker that exits with status 2 (a configuration error, as ``serve`` reports one) stops them
  all: the next one would fail the same way.
- SIGTERM or SIGINT: every worker is sent SIGTERM and drains and shuts down as one process does
  (``http/server.py``); past ``GATEWAY_SHUTDOWN_DRAIN + GATEWAY_SHUTDOWN_TIMEOUT`` plus
  :data:`KILL_MARGIN` seconds a worker still running is killed. The supervisor exits 0.
- Each worker counts as a replica for the degraded mode: it is started with
  ``GATEWAY_REPLICAS`` times N, so that the workers' shares together stay within ``VOD_QPS``
  while Redis is unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gateway.config.settings import Settings, SettingsError

log = logging.getLogger("gateway.workers")

STABLE_AFTER = 10.0  # seconds: a worker that lived this long died of something other than its start
MAX_BACKOFF = 30.0
KILL_MARGIN = 5.0
CONFIG_ERROR = 2  # what ``serve`` exits with for a bad setting


def check_workers(settings: Settings, workers: int) -> None:
    """``--workers`` above 1 needs Redis: one line, and exit 2 (the CLI prints it)."""
    if workers < 1:
        raise SettingsError(f"--workers {workers}: expected a whole number >= 1")
    if workers > 1 and settings.redis_url is None:
        raise SettingsError(
            f"--workers {workers} needs GATEWAY_REDIS_URL: the workers share the account's "
            f"{settings.vod_qps} calls/s through Redis (each would otherwise keep a limit of its own); "
            "set it, or run one worker"
        )


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """Bound once, by the supervisor; each worker accepts from an inherited copy."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


@dataclass
class Supervisor:
    """Keeps ``count`` workers running ``argv`` (to which ``--listen-fd`` is added) until stopped."""

    argv: Sequence[str]
    env: Mapping[str, str]
    sock: socket.socket
    count: int
    stop_after: float  # seconds a stopping worker gets before it is killed
    processes: dict[int, asyncio.subprocess.Process] = field(default_factory=dict)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _status: int = 0

    async def run(self) -> int:
        """Until SIGTERM/SIGINT (or a worker's configuration error): the exit status."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        try:
            keepers = [asyncio.create_task(self._keep(index)) for index in range(self.count)]
            await self._stopping.wait()
            await self._terminate()
            for keeper in keepers:
                keeper.cancel()
            await asyncio.gather(*keepers, return_exceptions=True)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        return self._status

    def stop(self) -> None:
        self._stopping.set()

    async def _keep(self, index: int) -> None:
        failures = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            argv = [*self.argv, "--listen-fd", str(self.sock.fileno()), "--worker-index", str(index)]
            process = await asyncio.create_subprocess_exec(
                *argv, env=dict(self.env), pass_fds=(self.sock.fileno(),)
            )
            self.processes[index] = process
            log.info("worker started", extra={"fields": {"worker": index, "pid": process.pid}})
            status = await process.wait()
            if self._stopping.is_set():
                return
            fields: dict[str, object] = {"worker": index, "pid": process.pid, "status": status}
            if status == CONFIG_ERROR:
                log.error("worker failed to start: stopping", extra={"fields": fields})
                self._status = CONFIG_ERROR
                self.stop()
                return
            failures = failures + 1 if time.monotonic() - started < STABLE_AFTER else 0
            delay = 0.0 if failures == 0 else min(MAX_BACKOFF, 0.5 * 2 ** (failures - 1))
            fields["restart_in"] = delay
            log.warning("worker exited: starting it again", extra={"fields": fields})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _terminate(self) -> None:
        running = [p for p in self.processes.values() if p.returncode is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        waits = [asyncio.create_task(p.wait()) for p in running]
        if not waits:
            return
        _, late = await asyncio.wait(waits, timeout=self.stop_after)
        for process in running:
            if process.returncode is None:
                log.warning("worker still running: killed", extra={"fields": {"pid": process.pid}})
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        if late:
            await asyncio.gather(*late, return_exceptions=True)


def worker_env(settings: Settings, workers: int, overrides: Mapping[str, str]) -> dict[str, str]:
    """The supervisor's environment for its workers: each is one of ``GATEWAY_REPLICAS`` x N."""
    env = dict(os.environ)
    env.update(overrides)
    env["GATEWAY_REPLICAS"] = str(settings.replicas * workers)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def worker_argv(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "gateway", "serve", "--host", host, "--port", str(port)]


def die_with_parent() -> None:
    """A worker gets SIGTERM if its supervisor dies (even killed with SIGKILL): no orphans."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() == 1:  # it died before the line above: nobody would send the signal now
        os.kill(os.getpid(), signal.SIGTERM)
