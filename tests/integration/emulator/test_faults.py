"""Each injected fault, over real loopback HTTP (resets and hangs need a real connection)."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

import httpx
import pytest

from gateway.emulator.config import FaultRates
from gateway.emulator.faults import FaultInjector
from tests.support.clock import ManualClock
from tests.support.emulator import ERROR_KEYS, AppFactory, asgi_client, state_of, v3
from tests.support.server import ThreadedServer


def test_faults_are_seeded_and_follow_their_rates() -> None:
    rates = FaultRates(server_error=0.2, hang=0.1, garbage=0.1, reset=0.1, throttle=0.1)

    def picks(seed: int) -> list[str | None]:
        injector = FaultInjector(rates, random.Random(seed), ManualClock(), 1)
        return [injector.pick() for _ in range(2000)]

    assert picks(3) == picks(3) != picks(4)
    counts = Counter(picks(3))
    assert set(counts) == {"5xx", "hang", "garbage", "reset", "throttle", None}
    assert 300 < counts["5xx"] < 500 and 700 < counts[None] < 900


def test_server_errors(make_app: AppFactory) -> None:
    app = make_app(faults=FaultRates(server_error=1.0))
    with ThreadedServer(app) as server, httpx.Client(base_url=server.url) as client:
        responses = [v3({"VideoIds": "x"}).send_sync(client) for _ in range(12)]
    seen = {(r.status_code, r.json()["Code"]) for r in responses}
    assert seen == {(500, "InternalError"), (503, "ServiceUnavailable")}
    assert all(set(r.json()) == ERROR_KEYS for r in responses)
    stats = state_of(app).stats
    assert stats.faults == 12 and stats.accepted == 12 and stats.ok == 0


def test_garbage(make_app: AppFactory) -> None:
    app = make_app(faults=FaultRates(garbage=1.0))
    with ThreadedServer(app) as server, httpx.Client(base_url=server.url) as client:
        response = v3({"VideoIds": "x"}).send_sync(client)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_spurious_throttling(make_app: AppFactory) -> None:
    app = make_app(faults=FaultRates(throttle=1.0))
    with ThreadedServer(app) as server, httpx.Client(base_url=server.url) as client:
        response = v3({"VideoIds": "x"}).send_sync(client)
    assert (response.status_code, response.json()["Code"]) == (400, "Throttling.User")
    stats = state_of(app).stats
    assert (stats.faults, stats.throttled) == (1, 0)
    assert stats.codes() == {"throttle": 1}


def test_reset_drops_the_connection_mid_response(make_app: AppFactory) -> None:
    app = make_app(faults=FaultRates(reset=1.0))
    with ThreadedServer(app) as server, httpx.Client(base_url=server.url) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            v3({"VideoIds": "x"}).send_sync(client)
        # the server is still fine afterwards
        assert client.get("/_emulator/stats").json()["faults"] == 1


def test_hang_until_the_client_gives_up(make_app: AppFactory) -> None:
    app = make_app(faults=FaultRates(hang=1.0))  # 120 s on a clock that never moves
    with ThreadedServer(app, graceful_timeout=30) as server:
        # only the read times out: a slow connect on a loaded machine must not look like a hang
        with httpx.Client(base_url=server.url, timeout=httpx.Timeout(10.0, read=0.2)) as client:
            with pytest.raises(httpx.ReadTimeout):
                v3({"VideoIds": "x"}).send_sync(client)
        assert state_of(app).stats.codes() == {"hang": 1}
    # stop() returned well before graceful_timeout: the handler noticed the client leave


async def test_hang_ends_with_a_gateway_timeout(make_app: AppFactory, manual_clock: ManualClock) -> None:
    app = make_app(faults=FaultRates(hang=1.0), hang_seconds=120)
    async with asgi_client(app) as client:
        pending = asyncio.create_task(v3({"VideoIds": "x"}).send(client))
        await manual_clock.idle()
        assert not pending.done() and manual_clock.sleepers == 1
        await manual_clock.advance(119)
        assert not pending.done()
        await manual_clock.advance(1)
        response = await pending
    assert response.status_code == 504
    assert response.headers["content-type"].startswith("text/html")


async def test_faults_happen_after_admission(make_app: AppFactory) -> None:
    app = make_app(faults=FaultRates(server_error=1.0))
    async with asgi_client(app) as client:
        response = await v3({"VideoIds": "x"}, secret="wrong").send(client)
    assert response.json()["Code"] == "SignatureDoesNotMatch"
