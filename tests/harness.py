"""Test harness: the emulator and the gateway, each served by uvicorn on loopback."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.emulator.config import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET
from gateway.emulator.server import ThreadedServer
from gateway.emulator.state import EmulatorState
from gateway.settings import Settings, load_settings


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


def gateway_settings(emulator_url: str, **env: str) -> Settings:
    base = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEMO_ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEMO_ACCESS_KEY_SECRET,
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
