"""Test harness: the emulator and the gateway, each served by uvicorn on loopback (processes are in
:mod:`tests.support.processes`)."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from gateway.config.settings import Settings, load_settings
from gateway.emulator.config import DEMO_KEY, AccessKey
from gateway.emulator.state import EmulatorState
from tests.support.server import ThreadedServer


class Emulator:
    def __init__(self, server: ThreadedServer, state: EmulatorState) -> None:
        self.server = server
        self.state = state
        self.url = server.url

    @property
    def accepted_calls(self) -> int:
        return self.state.stats.accepted

    def ids(self, status: str, n: int = 1) -> list[str]:
        ids = self.state.catalogue.sample_ids(n)[status]
        assert len(ids) == n, f"catalogue has fewer than {n} {status} videos"
        return ids

    @property
    def missing_id(self) -> str:
        return self.state.catalogue.nonexistent_id


CANARY = AccessKey(
    "LTAI5tCanaryKey00001",
    "canary-secret-7f3a9c2e51d84b06",
    "canary-sts-token-b84d0e6a2c9f4137",
)
"""STS credentials whose secret and token must never show up anywhere (tests/secrets_guard.py)."""

TEST_KEYS = (DEMO_KEY, CANARY)
"""What every test emulator accepts: the demo pair, and the canary STS credentials tests sign with."""


def gateway_settings(emulator_url: str, **env: str) -> Settings:
    """Settings for a gateway on ``emulator_url``, signing with the canary STS credentials (the
    secrets guard fails any test in which they show up)."""
    base = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": CANARY.access_key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": CANARY.secret,
        "ALIBABA_CLOUD_SECURITY_TOKEN": CANARY.security_token or "",
        "VOD_ENDPOINT": emulator_url,
    }
    return load_settings({**base, **env})


class Gateway:
    def __init__(self, server: ThreadedServer) -> None:
        self.server = server
        self.url = server.url
        self.graphql_url = server.url + "/graphql"

    def query(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        response = httpx.post(self.graphql_url, json={"query": query, "variables": variables or {}}, **kw)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


class LogRecords(logging.Handler):
    """Every record of the loggers it is attached to (``gateway_logs`` in conftest.py)."""

    WATCHED = ("gateway", "uvicorn", "uvicorn.error", "strawberry")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def errors(self) -> list[str]:
        """ERROR lines and worse: what a client's bad input or an upstream fault must never cause."""
        return [f"{r.name}: {r.getMessage()}" for r in self.records if r.levelno >= logging.ERROR]
