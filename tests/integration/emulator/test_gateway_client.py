"""The gateway's own VOD client against the emulator over real loopback HTTP: the checks the
official SDKs pass in ``test_sdk.py``, with V3 and with V1 signing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from gateway.emulator.state import EmulatorState
from gateway.vod.auth import SignatureVersion
from gateway.vod.client import VodClient
from gateway.vod.credentials import Credentials, Secret
from gateway.vod.errors import ServiceError, ServiceThrottled
from gateway.vod.models import parse_page
from tests.support.clock import InstantClock
from tests.support.emulator import AK, SK, AppFactory, conformance_ids, state_of
from tests.support.server import ThreadedServer

SIGNATURES: list[SignatureVersion] = ["v3", "v1"]


@pytest.fixture
def app(make_app: AppFactory) -> Starlette:
    # the conftest's ManualClock never moves: every call lands in one flow-control window
    return make_app()


@pytest.fixture
def server(app: Starlette) -> Iterator[ThreadedServer]:
    with ThreadedServer(app) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def vod_client(
    http: httpx.AsyncClient,
    server: ThreadedServer,
    signature: SignatureVersion,
    secret: str = SK,
    token: str | None = None,
    clock: InstantClock | None = None,
) -> VodClient:
    credentials = Credentials(AK, Secret(secret), Secret(token) if token else None)
    clock = clock or InstantClock()  # a backoff never waits for real
    return VodClient(http, server.url, credentials, signature=signature, clock=clock)


def signatures(state: EmulatorState) -> list[str | None]:
    return [r.signature for r in state.stats.records]


@pytest.mark.parametrize("signature", SIGNATURES)
@pytest.mark.parametrize("token", [None, "CAIS+sts/token==ABC"], ids=["ak", "sts"])
async def test_seeded_summaries_and_unknown_ids(
    http: httpx.AsyncClient,
    server: ThreadedServer,
    app: Starlette,
    signature: SignatureVersion,
    token: str | None,
) -> None:
    state = state_of(app)
    ids = conformance_ids(state)
    page = await vod_client(http, server, signature, token=token).get_transcode_summary(ids)
    found, missing = state.catalogue.summaries(ids)
    # parsed from what crossed the wire == parsed from what the catalogue holds
    want = parse_page({"TranscodeSummaryList": found, "NonExistVideoIds": missing})
    assert page.summaries == want.summaries and len(page.summaries) == len(found)
    assert page.non_existent == {state.catalogue.nonexistent_id}
    assert page.request_id
    assert signatures(state) == [signature]


@pytest.mark.parametrize("signature", SIGNATURES)
async def test_wrong_secret_is_signature_does_not_match(
    http: httpx.AsyncClient, server: ThreadedServer, app: Starlette, signature: SignatureVersion
) -> None:
    client = vod_client(http, server, signature, secret="wrong")
    with pytest.raises(ServiceError) as caught:
        await client.get_transcode_summary(["x"])
    assert (caught.value.upstream_code, caught.value.status) == ("SignatureDoesNotMatch", 400)
    assert "wrong" not in caught.value.message
    assert state_of(app).stats.calls == 1  # not retried


@pytest.mark.parametrize("signature", SIGNATURES)
async def test_burst_of_twenty_sees_exactly_five_throttled(
    http: httpx.AsyncClient, server: ThreadedServer, app: Starlette, signature: SignatureVersion
) -> None:
    clock = InstantClock()
    client = vod_client(http, server, signature, clock=clock)
    outcomes = []
    for _ in range(20):
        try:
            # a deadline of now: no budget for backoff, so a throttle is not retried (as the SDKs)
            await client.get_transcode_summary(["x"], deadline=clock.now())
            outcomes.append("ok")
        except ServiceThrottled as exc:
            outcomes.append(exc.upstream_code)
    assert outcomes == ["ok"] * 15 + ["Throttling.User"] * 5
    stats = state_of(app).stats
    assert (stats.calls, stats.accepted, stats.throttled, stats.max_calls_in_any_window()) == (20, 15, 5, 15)
