"""Shared fixtures: the emulator and the gateway, each served by uvicorn on loopback."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import hypothesis
import pytest

from gateway.app import create_app
from gateway.emulator.app import create_emulator_app
from gateway.emulator.config import EmulatorConfig
from tests.support.harness import TEST_KEYS, Emulator, Gateway, LogRecords, gateway_settings
from tests.support.server import ThreadedServer

pytest_plugins = ["tests.secrets_guard", "pytester"]

# Property tests draw the same examples on every run, so CI is reproducible; HYPOTHESIS_PROFILE=explore
# draws new ones (and keeps failures in .hypothesis/) when hunting for bugs.
hypothesis.settings.register_profile("ci", derandomize=True, database=None)
hypothesis.settings.register_profile("explore", derandomize=False)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    servers: list[ThreadedServer] = []

    def start(**overrides: Any) -> Emulator:
        overrides.setdefault("catalogue_size", 600)
        overrides.setdefault("keys", TEST_KEYS)
        app = create_emulator_app(EmulatorConfig(**overrides))
        server = ThreadedServer(app)
        server.start()
        servers.append(server)
        return Emulator(server, app.state.emulator)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def emulator(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator()


@pytest.fixture
def make_gateway() -> Iterator[Callable[..., Gateway]]:
    servers: list[ThreadedServer] = []

    def start(emulator: Emulator, **env: str) -> Gateway:
        server = ThreadedServer(create_app(gateway_settings(emulator.url, **env)))
        server.start()
        servers.append(server)
        return Gateway(server)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def gateway(make_gateway: Callable[..., Gateway], emulator: Emulator) -> Gateway:
    return make_gateway(emulator)


@pytest.fixture
def gateway_logs() -> Iterator[LogRecords]:
    """The records of the gateway, uvicorn and Strawberry during the test."""
    handler = LogRecords()
    watched = [logging.getLogger(name) for name in LogRecords.WATCHED]
    for logger in watched:
        logger.addHandler(handler)
    yield handler
    for logger in watched:
        logger.removeHandler(handler)
