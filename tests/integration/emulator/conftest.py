"""Fixtures: emulators on a ManualClock, in-process clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.emulator.app import create_emulator_app
from gateway.emulator.config import EmulatorConfig
from tests.support.clock import ManualClock
from tests.support.emulator import SMALL, AppFactory, asgi_client


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_app(manual_clock: ManualClock) -> AppFactory:
    """An emulator on the test's ManualClock; keyword arguments override EmulatorConfig fields."""

    def build(**overrides: Any) -> Starlette:
        overrides.setdefault("catalogue_size", SMALL)
        return create_emulator_app(EmulatorConfig(**overrides), manual_clock)

    return build


@pytest.fixture
def app(make_app: AppFactory) -> Starlette:
    return make_app()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as c:
        yield c
