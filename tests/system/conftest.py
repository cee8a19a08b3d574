"""Fixtures for the system tests: a private redis-server (the shared one at 6379 is never stopped)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis import RedisServer


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, killed afterwards (thawed first, if the test froze it)."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
