"""The unsigned ``/_emulator/*`` paths and the recorded stats behind them."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from gateway.emulator.config import FaultRates
from tests.support.emulator import AppFactory, asgi_client, state_of, v3


async def test_stats_record_every_call(client: httpx.AsyncClient, app: Starlette) -> None:
    await v3({"VideoIds": "a,b"}).send(client)
    await v3({"VideoIds": "c"}, secret="wrong").send(client)
    stats = state_of(app).stats
    assert stats.ids_per_call() == [("a", "b"), ("c",)]
    assert [r.outcome for r in stats.records] == ["ok", "error"]
    assert [r.access_key_id for r in stats.records] == [state_of(app).config.keys[0].access_key_id] * 2
    assert [r.admitted for r in stats.records] == [True, False]

    body = (await client.get("/_emulator/stats")).json()
    assert body["calls"] == 2 and body["accepted"] == 1 and body["ok"] == 1 and body["errors"] == 1
    assert body["codes"] == {"SignatureDoesNotMatch": 1}
    assert body["max_calls_in_any_window"] == 1
    assert "records" not in body
    detail = (await client.get("/_emulator/stats", params={"detail": "1"})).json()
    assert [r["video_ids"] for r in detail["records"]] == [["a", "b"], ["c"]]


async def test_stats_window_must_be_positive(client: httpx.AsyncClient) -> None:
    for window in ("0", "-1", "abc", "inf"):
        response = await client.get("/_emulator/stats", params={"window": window})
        assert response.status_code == 400


async def test_reset_clears_stats_and_windows(make_app: AppFactory) -> None:
    app = make_app(qps=1)
    async with asgi_client(app) as client:
        await v3({"VideoIds": "x"}).send(client)
        assert (await v3({"VideoIds": "x"}).send(client)).status_code == 400
        assert (await client.post("/_emulator/reset")).json() == {"reset": True}
        assert state_of(app).stats.calls == 0
        assert (await v3({"VideoIds": "x"}).send(client)).status_code == 200


async def test_advancing_the_clock_over_http(client: httpx.AsyncClient, app: Starlette) -> None:
    state = state_of(app)
    video = state.sample_ids(1)["Processing"][0]
    before = (await client.get("/_emulator/clock")).json()
    after = (await client.post("/_emulator/clock", json={"advance": 301})).json()
    assert after["epoch"] == before["epoch"] + 301
    assert state.catalogue.status(video) != "Processing"
    for bad in ({"advance": -1}, {"advance": "soon"}, {}, [1]):
        assert (await client.post("/_emulator/clock", json=bad)).status_code == 400
    assert (await client.post("/_emulator/clock", content=b"not json")).status_code == 400


async def test_catalogue_samples(client: httpx.AsyncClient, app: Starlette) -> None:
    body = (await client.get("/_emulator/catalogue", params={"per_status": "2"})).json()
    state = state_of(app)
    assert body["size"] == len(state.catalogue) and body["seed"] == 1
    assert body["samples"] == state.sample_ids(2)
    assert body["nonexistent"] == state.catalogue.nonexistent_id


async def test_admin_paths_skip_latency_and_faults(make_app: AppFactory) -> None:
    app = make_app(latency_ms=(1000.0, 1000.0), faults=FaultRates(server_error=1.0))
    async with asgi_client(app) as client:
        assert (await client.get("/_emulator/stats")).status_code == 200
        assert (await client.get("/_emulator/catalogue")).status_code == 200


async def test_faults_switch_on_and_off_while_running(client: httpx.AsyncClient, app: Starlette) -> None:
    assert (await client.get("/_emulator/faults")).json() == {"faults": "none"}
    on = await client.post("/_emulator/faults", json={"faults": "5xx:1"})
    assert on.json() == {"faults": "5xx:1"}
    failed = await v3({"VideoIds": "a"}).send(client)
    assert failed.status_code in (500, 503)
    off = await client.post("/_emulator/faults", json={"faults": "none"})
    assert off.json() == {"faults": "none"}
    assert (await v3({"VideoIds": "a"}).send(client)).status_code == 200
    for bad in ({"faults": "boom:1"}, {"faults": "5xx:2"}, {"nothing": 1}):
        refused = await client.post("/_emulator/faults", json=bad)
        assert refused.status_code == 400 and "kinds 5xx, hang" in refused.json()["Message"]
    assert state_of(app).faults.rates == FaultRates()
