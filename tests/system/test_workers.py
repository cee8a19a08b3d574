"""``vod-gateway serve --workers 2``: real processes on loopback (a strict emulator at 15 calls/s, a
private redis-server, the supervisor and its two workers).

- Without GATEWAY_REDIS_URL, ``--workers 2`` is refused with one line and exit 2.
- The two workers share one port and the account: both serve, and under load the emulator sees
  no throttled call and never more than 15 calls in any 1 s, with full calls; ``/metrics`` has
  both workers' samples, labelled, whichever worker answers it.
- A worker killed with SIGKILL is started again, and the port keeps answering meanwhile.
- SIGTERM to the supervisor stops every worker and exits 0.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.processes import Process, free_port
from tests.support.redis import RedisServer, needs_redis_server
from tests.support.waits import eventually

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("vod-gateway"))
QPS = 15
QUERY = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId transcodeStatus } }"


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "VOD_", "ALIBABA_CLOUD_"))}


def test_workers_without_redis_are_refused_with_one_line(tmp_path: Path) -> None:
    env = {
        **clean_env(),
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tNoRedis",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "x",
    }
    with Process(
        [CLI, "serve", "--workers", "2", "--port", str(free_port())], env, tmp_path / "gw.log"
    ) as proc:
        assert proc.wait_exit(30) == 2
    lines = proc.text().strip().splitlines()
    assert len(lines) == 1, lines
    assert "--workers 2 needs GATEWAY_REDIS_URL" in lines[0]


class Workers:
    """The emulator, and the supervisor with its workers, on a private Redis."""

    def __init__(self, tmp_path: Path, redis_url: str) -> None:
        emulator_port, self.port = free_port(), free_port()
        self.emulator = f"http://127.0.0.1:{emulator_port}"
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        account, secret = f"LTAI5tWorkers{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
        args = [
            CLI,
            "emulator",
            *f"--port {emulator_port} --qps {QPS} --latency 20-60 --catalogue 1000".split(),
        ]
        self.emulator_proc = Process(
            args, {**clean_env(), "VOD_EMULATOR_KEYS": f"{account}:{secret}"}, tmp_path / "emulator.log"
        )
        env = clean_env()
        env.update(
            ALIBABA_CLOUD_ACCESS_KEY_ID=account,
            ALIBABA_CLOUD_ACCESS_KEY_SECRET=secret,
            VOD_ENDPOINT=self.emulator,
            GATEWAY_REDIS_URL=redis_url,
            GATEWAY_CACHE_TTL_ACTIVE="0",
            GATEWAY_CACHE_TTL_TERMINAL="0",
            GATEWAY_CACHE_TTL_NOT_FOUND="0",
            GATEWAY_RESPONSE_CACHE_TTL="0",
            GATEWAY_SHUTDOWN_TIMEOUT="5",
        )
        serve = [CLI, "serve", "--workers", "2", "--port", str(self.port)]
        self.supervisor = Process(serve, env, tmp_path / "gateway.log")
        self.emulator_proc.wait_http(self.emulator + "/_emulator/stats")
        self.supervisor.wait_line("vod-gateway: GraphQL at", seconds=60)
        sample = httpx.get(self.emulator + "/_emulator/catalogue", params={"per_status": "40"}).json()
        self.ids = [i for ids in sample["samples"].values() for i in ids]

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.supervisor.text().splitlines() if line.startswith("{")]

    def pids(self) -> dict[int, int]:
        """Each worker's latest pid, from the supervisor's "worker started" lines."""
        return {e["worker"]: e["pid"] for e in self.lines() if e["msg"] == "worker started"}

    def stats(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(self.emulator + "/_emulator/stats", params={"window": "1.0"}).json()
        return body

    def stop(self) -> None:
        self.supervisor.stop()
        self.emulator_proc.stop()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    redis_server = RedisServer()
    redis_server.start()
    try:
        cluster = Workers(tmp_path, redis_server.url)
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        redis_server.stop()


async def drive(url: str, ids: list[str], requests: int, clients: int = 8) -> list[int]:
    """``requests`` queries of 10 random IDs from ``clients`` concurrent clients, each on a new
    connection (so the kernel spreads them over the workers): their status codes."""
    statuses: list[int] = []
    rng = random.Random(7)
    batches = [rng.sample(ids, 10) for _ in range(requests)]

    async def client(mine: list[list[str]]) -> None:
        for batch in mine:
            async with httpx.AsyncClient(timeout=30.0, trust_env=False) as http:
                response = await http.post(url, json={"query": QUERY, "variables": {"ids": batch}})
                statuses.append(response.status_code)
                assert len(response.json()["data"]["transcodeSummaries"]) == 10

    await asyncio.gather(*(client(batches[n::clients]) for n in range(clients)))
    return statuses


@needs_redis_server
async def test_two_workers_share_one_port_and_the_account_limit(workers: Workers) -> None:
    statuses = await drive(workers.url, workers.ids, requests=120)
    stats = workers.stats()
    served = {e["worker"] for e in workers.lines() if e.get("msg") == "upstream call"}
    print(
        f"\nworkers: {len(statuses)} requests, {stats['accepted']} upstream calls, "
        f"max {stats['max_calls_in_any_window']} in any 1 s, {stats['throttled']} throttled"
    )
    assert statuses == [200] * 120
    assert served == {0, 1}  # both workers called upstream
    assert stats["throttled"] == 0
    assert stats["max_calls_in_any_window"] <= QPS
    assert stats["accepted"] > QPS  # the limit was reached, and shared
    # /metrics, whichever worker answers it, has both workers' samples, each with its label
    for _ in range(3):
        by_worker = operations_by_worker(httpx.get(workers.url.removesuffix("/graphql") + "/metrics").text)
        assert set(by_worker) == {"0", "1"} and sum(by_worker.values()) == 120


def operations_by_worker(text: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "gateway_graphql_operations":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    worker = sample.labels["worker"]
                    counts[worker] = counts.get(worker, 0.0) + sample.value
    return counts


@needs_redis_server
async def test_a_killed_worker_is_started_again_and_sigterm_stops_them_all(workers: Workers) -> None:
    first = eventually(lambda: len(workers.pids()) == 2 and workers.pids(), 30, "two workers started")
    os.kill(first[0], signal.SIGKILL)
    eventually(lambda: workers.pids()[0] != first[0], 30, "worker 0 started again")
    assert (await drive(workers.url, workers.ids, requests=8, clients=2)) == [200] * 8
    restarted = [e for e in workers.lines() if e["msg"] == "worker exited: starting it again"]
    assert [(e["worker"], e["pid"], e["status"]) for e in restarted] == [(0, first[0], -signal.SIGKILL)]

    pids = list(workers.pids().values())
    workers.supervisor.popen.send_signal(signal.SIGTERM)
    assert workers.supervisor.wait_exit(30) == 0
    for pid in pids:
        eventually(lambda pid=pid: not _alive(pid), 10, f"worker {pid} gone")
    assert "Traceback" not in workers.supervisor.text()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie of an already-reaped child is not "alive"
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
