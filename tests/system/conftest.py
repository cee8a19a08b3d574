"""Fixtures for the system tests: a private redis-server (the shared one at 6379 is never stopped).

Every test here is marked ``system``: real processes (gateways, JS gateways, Chromium, Redis
servers). ``make test`` runs the rest of the suite, ``make test-system`` these, and ``.ci/run`` both,
as two steps, so that each stays within CI's 10 minutes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.redis import RedisServer

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.system)


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, killed afterwards (thawed first, if the test froze it)."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
