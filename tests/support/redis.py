"""Redis for system tests: the shared server at 127.0.0.1:6379 (skip marks when it is absent), and a
private redis-server on its own port that a test may stop, restart, freeze and thaw."""

from __future__ import annotations

import os
import shutil
import signal

import pytest
import redis
import redis.asyncio as aioredis

from tests.support.processes import Process, free_port
from tests.support.waits import eventually

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_available(url: str = REDIS_URL) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


needs_redis = pytest.mark.skipif(
    not redis_available(), reason="no Redis at 127.0.0.1:6379 (CI starts one: .ci/run)"
)
needs_redis_server = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed (apt-get install redis)"
)


class RedisServer:
    """A private redis-server on its own port, to stop and start without touching the shared one."""

    def __init__(self, port: int | None = None, password: str = "") -> None:
        self.port = port or free_port()
        self.password = password
        auth = f":{password}@" if password else ""
        self.url = f"redis://{auth}127.0.0.1:{self.port}/0"
        self._proc: Process | None = None
        self._frozen = False

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("the redis-server is not running")
        return self._proc.pid

    def start(self, seconds: float = 10.0) -> None:
        """Started and answering PING."""
        args = ["redis-server", *f"--port {self.port} --bind 127.0.0.1 --appendonly no".split(), "--save", ""]
        if self.password:
            args += ["--requirepass", self.password]
        self._proc = Process(args)
        self._proc.wait_port(self.port, seconds=seconds)
        eventually(lambda: redis_available(self.url), seconds, f"redis-server on {self.port} answering PING")

    def stop(self) -> None:
        """Killed at once (SIGKILL: no shutdown save), thawed first if frozen."""
        if self._proc is not None:
            self.thaw()
            self._proc.popen.kill()
            self._proc.popen.wait()
            self._proc.log.unlink(missing_ok=True)
            self._proc = None

    def restart(self) -> None:
        """Killed and started again on the same port: an empty Redis with a new run_id."""
        self.stop()
        self.start()

    def freeze(self) -> None:
        """SIGSTOP: the port stays open, nothing answers."""
        os.kill(self.pid, signal.SIGSTOP)
        self._frozen = True

    def thaw(self) -> None:
        """SIGCONT, if frozen."""
        if self._frozen:
            os.kill(self.pid, signal.SIGCONT)
            self._frozen = False


async def trust(client: aioredis.Redis, key: str) -> None:
    """Mark ``key`` as a log this Redis has kept all along (what a first call, one window earlier,
    leaves behind), so that a test starts from an empty window instead of a full one."""
    info = await client.info("server")
    await client.zadd(key, {f"run:{info['run_id']}": float("inf")})
