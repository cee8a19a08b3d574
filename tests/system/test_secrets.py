"""Secrets never leave the gateway: the real CLI, as deployed, with known secret values.

``vod-gateway serve`` runs as a subprocess with the canary STS credentials, V1 signing (the token
travels in the query string), DEBUG logs, and an emulator injecting every fault. Everything the
processes print and everything the clients receive is captured and searched for the secret and the
token. (The in-process tests are watched the same way by tests/secrets_guard.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.harness import CANARY
from tests.support.processes import Process, free_port

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("vod-gateway"))
SECRETS = (CANARY.secret, CANARY.security_token or "")
CANARY_ENV = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": CANARY.access_key_id,
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": CANARY.secret,
    "ALIBABA_CLOUD_SECURITY_TOKEN": CANARY.security_token or "",
}


def environment(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "VOD_", "GATEWAY_"))}
    return {**base, **extra}


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    keys = f"{CANARY.access_key_id}:{CANARY.secret}:{CANARY.security_token}"
    args = [CLI, "emulator", "--port", str(port), "--catalogue", "300", "--qps", "15", "--keys", keys]
    url = f"http://127.0.0.1:{port}"
    emulator = Process(args, environment(), tmp_path / "emulator.log")
    emulator.wait_http(url + "/_emulator/stats")
    yield url
    emulator.stop()


def assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret appeared in {where}"


def test_the_cli_at_debug_under_faults_never_shows_a_secret(upstream: str, tmp_path: Path) -> None:
    port = free_port()
    env = environment(
        **CANARY_ENV,
        VOD_ENDPOINT=upstream,
        VOD_SIGNATURE="v1",
        VOD_TIMEOUT="0.5",
        VOD_MAX_WAIT="2",
        GATEWAY_LOG_LEVEL="DEBUG",
        GATEWAY_API_KEYS="client-key-1",
        GATEWAY_CACHE_TTL_ACTIVE="0",
        GATEWAY_CACHE_TTL_TERMINAL="0",
        GATEWAY_CACHE_TTL_NOT_FOUND="0",
        GATEWAY_RESPONSE_CACHE_TTL="0",
    )
    url = f"http://127.0.0.1:{port}"
    gateway = Process([CLI, "serve", "--port", str(port)], env, tmp_path / "gateway.log")
    gateway.wait_http(url + "/healthz")
    received: list[str] = []
    auth = {"authorization": "Bearer client-key-1"}
    catalogue = httpx.get(upstream + "/_emulator/catalogue").json()
    ids = [i for status in catalogue["samples"].values() for i in status] + [catalogue["nonexistent"]]
    query = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId transcodeStatus progress } }"
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            for faults in ("none", "5xx:0.3,garbage:0.2,reset:0.1,hang:0.1", "throttle:1", "none"):
                httpx.post(upstream + "/_emulator/faults", json={"faults": faults})
                for _ in range(3):
                    answer = http.post(
                        "/graphql", json={"query": query, "variables": {"ids": ids}}, headers=auth
                    )
                    received.append(answer.text)
            bad = ["a,b", "x" * 100, "视频"]
            received.append(
                http.post("/graphql", json={"query": query, "variables": {"ids": bad}}, headers=auth).text
            )
            received.append(http.post("/graphql", json={"query": "{ nope }"}, headers=auth).text)
            received.append(http.post("/graphql", content=b"{oops", headers=auth).text)
            received.append(http.post("/graphql", json={"query": query}).text)  # no key: 401
            received += [http.get(path).text for path in ("/metrics", "/readyz", "/healthz")]
            received.append(http.get("/graphql", headers={"accept": "text/html"}).text)
        ws_url = url.replace("http", "ws") + "/graphql"
        with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            ws.send(
                json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer client-key-1"}})
            )
            received.append(str(ws.recv(10)))
            operation = {
                "query": query.replace("query", "subscription").replace(
                    "transcodeSummaries", "transcodeSummaryUpdates"
                )
            }
            ws.send(
                json.dumps(
                    {"id": "1", "type": "subscribe", "payload": {**operation, "variables": {"ids": ids[:3]}}}
                )
            )
            received.append(str(ws.recv(10)))
    finally:
        gateway.stop()
    logs = gateway.text()
    assert any("UPSTREAM_UNAVAILABLE" in r for r in received) and any(
        "UPSTREAM_THROTTLED" in r for r in received
    )
    assert '"level": "debug"' in logs and "upstream call" in logs  # the logs did have things to say
    for n, text in enumerate(received):
        assert_no_secret(text, f"response {n}")
    assert_no_secret(logs, "the gateway's output")


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"VOD_QPS": "fast"}, "VOD_QPS"),
        ({"GATEWAY_REDIS_URL": f"redis://:{CANARY.secret}@127.0.0.1:1/0"}, "GATEWAY_REDIS_URL"),
        ({"ALIBABA_CLOUD_ACCESS_KEY_ID": ""}, "ALIBABA_CLOUD_ACCESS_KEY_ID"),
        ({"VOD_ENDPOINT": f"http://user:{CANARY.secret}@"}, "VOD_ENDPOINT"),
    ],
    ids=["bad setting", "redis unreachable", "half the credentials", "bad endpoint"],
)
def test_start_up_failures_name_the_problem_and_never_a_secret(extra: dict[str, str], says: str) -> None:
    env = environment(**{**CANARY_ENV, **extra})
    done = subprocess.run(
        [CLI, "serve", "--port", str(free_port())], env=env, capture_output=True, timeout=60
    )
    output = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode == 2, output
    assert says in output and "Traceback" not in output
    assert len(output.strip().splitlines()) == 1, output
    assert_no_secret(output, "the start-up error")
