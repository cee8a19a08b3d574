"""The endpoint over (in-process) HTTP: hand-signed V1 and V3 calls, every documented error."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from starlette.applications import Starlette

from gateway.emulator.config import AccessKey, EmulatorConfig
from gateway.emulator.model import utc
from gateway.emulator.state import EmulatorState
from tests.support.clock import ManualClock
from tests.support.emulator import (
    AK,
    ERROR_KEYS,
    HOST,
    SK,
    AppFactory,
    Signed,
    asgi_client,
    nonce,
    state_of,
    v1,
    v1_form,
    v3,
)


def ids(app: Starlette, status: str, n: int = 2) -> list[str]:
    return state_of(app).sample_ids(n)[status][:n]


async def error(response: httpx.Response, status: int, code: str) -> dict[str, str]:
    body: dict[str, str] = response.json()
    assert (response.status_code, body["Code"]) == (status, code), body
    assert set(body) == ERROR_KEYS
    assert body["HostId"] == HOST
    assert response.headers["x-acs-request-id"] == body["RequestId"]
    assert SK not in response.text
    return body


@pytest.mark.parametrize("signer", [v3, v1, v1_form], ids=["v3", "v1-get", "v1-post-form"])
async def test_summaries_and_unknown_ids(client: httpx.AsyncClient, app: Starlette, signer: object) -> None:
    wanted = ids(app, "CompleteAllSucc") + ids(app, "Processing")
    missing = ["0" * 32, "does-not-exist"]
    call = signer({"VideoIds": ",".join(wanted + missing)})  # type: ignore[operator]
    response = await call.send(client)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"RequestId", "NonExistVideoIds", "TranscodeSummaryList"}
    assert [s["VideoId"] for s in body["TranscodeSummaryList"]] == wanted
    assert body["NonExistVideoIds"] == missing
    assert response.headers["content-type"].startswith("application/json")


async def test_v3_with_a_form_body(client: httpx.AsyncClient, app: Starlette) -> None:
    wanted = ids(app, "Partial", 1)
    response = await v3(form={"VideoIds": wanted[0]}).send(client)
    assert response.status_code == 200, response.text
    assert [s["VideoId"] for s in response.json()["TranscodeSummaryList"]] == wanted


async def test_plus_in_the_query_is_a_space(client: httpx.AsyncClient) -> None:
    call = v1({"VideoIds": "a b,c d"})
    call.path = call.path.replace("%20", "+")
    assert "+" in call.path
    response = await call.send(client)
    assert response.status_code == 200, response.text
    assert response.json()["NonExistVideoIds"] == ["a b", "c d"]


async def test_sts_tokens_are_accepted_when_signed(client: httpx.AsyncClient) -> None:
    for call in (v3({"VideoIds": "x"}, token="CAIS+sts/token=="), v1({"VideoIds": "x"}, token="t")):
        response = await call.send(client)
        assert response.status_code == 200, response.text


async def test_an_unsigned_sts_token_is_refused(client: httpx.AsyncClient) -> None:
    call = v3({"VideoIds": "x"}, unsigned={"x-acs-security-token": "CAIS"})
    await error(await call.send(client), 400, "IncompleteSignature")


async def test_a_pinned_sts_token_must_match(make_app: AppFactory) -> None:
    app = make_app(keys=(AccessKey(AK, SK, "pinned"),))
    async with asgi_client(app) as client:
        assert (await v3({"VideoIds": "x"}, token="pinned").send(client)).status_code == 200
        response = await v3({"VideoIds": "x"}, token="other").send(client)
        await error(response, 400, "InvalidSecurityToken.MismatchWithAccessKey")


async def test_wrong_secret(client: httpx.AsyncClient) -> None:
    await error(await v3({"VideoIds": "x"}, secret="wrong").send(client), 400, "SignatureDoesNotMatch")
    body = await error(await v1({"VideoIds": "x"}, secret="wrong").send(client), 400, "SignatureDoesNotMatch")
    assert "server string to sign is:GET&%2F&AccessKeyId" in body["Message"]


async def test_tampered_parameters(client: httpx.AsyncClient) -> None:
    call = v3({"VideoIds": "x"})
    call.path = call.path.replace("VideoIds=x", "VideoIds=y")
    await error(await call.send(client), 400, "SignatureDoesNotMatch")
    call = v1({"VideoIds": "x"})
    call.path = call.path.replace("VideoIds=x", "VideoIds=y")
    await error(await call.send(client), 400, "SignatureDoesNotMatch")


async def test_body_hash_must_match_the_body(client: httpx.AsyncClient) -> None:
    call = v3(form={"VideoIds": "x"})
    call.body = b"VideoIds=y"
    body = await error(await call.send(client), 400, "SignatureDoesNotMatch")
    assert "x-acs-content-sha256" in body["Message"]


async def test_unknown_access_key(client: httpx.AsyncClient) -> None:
    await error(
        await v3({"VideoIds": "x"}, key="LTAInobody").send(client), 404, "InvalidAccessKeyId.NotFound"
    )
    await error(
        await v1({"VideoIds": "x"}, key="LTAInobody").send(client), 404, "InvalidAccessKeyId.NotFound"
    )


async def test_nonce_reuse(client: httpx.AsyncClient) -> None:
    for signer in (v3, v1):
        shared = nonce()
        first = signer({"VideoIds": "x"}, signature_nonce=shared)
        assert (await first.send(client)).status_code == 200
        again = signer({"VideoIds": "y"}, signature_nonce=shared)
        await error(await again.send(client), 400, "SignatureNonceUsed")


@pytest.mark.parametrize("offset", [-16 * 60, 16 * 60])
async def test_stale_or_future_timestamps(client: httpx.AsyncClient, offset: int) -> None:
    stamp = utc(time.time() + offset)
    await error(await v3({"VideoIds": "x"}, date=stamp).send(client), 400, "InvalidTimeStamp.Expired")
    await error(await v1({"VideoIds": "x"}, timestamp=stamp).send(client), 400, "InvalidTimeStamp.Expired")


async def test_badly_formatted_timestamp(client: httpx.AsyncClient) -> None:
    response = await v1({"VideoIds": "x"}, timestamp="2026-01-02 03:04:05").send(client)
    await error(response, 400, "InvalidTimeStamp.Format")


@pytest.mark.parametrize(
    "drop", ["x-acs-date", "x-acs-signature-nonce", "x-acs-action", "x-acs-content-sha256"]
)
async def test_v3_missing_pieces(client: httpx.AsyncClient, drop: str) -> None:
    body = await error(await v3({"VideoIds": "x"}, drop=(drop,)).send(client), 400, "MissingParameter")
    assert drop in body["Message"]


@pytest.mark.parametrize("drop", ["Signature", "SignatureNonce", "Timestamp", "Action", "AccessKeyId"])
async def test_v1_missing_pieces(client: httpx.AsyncClient, drop: str) -> None:
    call = v1({"VideoIds": "x"})
    pairs = call.path.removeprefix("/?").split("&")
    call.path = "/?" + "&".join(p for p in pairs if not p.startswith(drop + "="))
    body = await error(await call.send(client), 400, "MissingParameter")
    assert drop in body["Message"]


async def test_no_credentials_at_all(client: httpx.AsyncClient) -> None:
    response = await client.get("/", params={"Action": "GetTranscodeSummary", "VideoIds": "x"})
    await error(response, 400, "MissingParameter")


async def test_malformed_authorization(client: httpx.AsyncClient) -> None:
    call = v3({"VideoIds": "x"})
    call.headers["authorization"] = "ACS3-HMAC-SHA256 garbage"
    await error(await call.send(client), 400, "IncompleteSignature")
    call.headers["authorization"] = "ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=b"
    await error(await call.send(client), 400, "IncompleteSignature")


@pytest.mark.parametrize("signer", [v3, v1])
async def test_missing_video_ids(client: httpx.AsyncClient, signer: object) -> None:
    for params in ({}, {"VideoIds": ""}, {"VideoIds": " , ,"}):
        call = signer(params)  # type: ignore[operator]
        body = await error(await call.send(client), 400, "MissingParameter")
        assert "VideoIds" in body["Message"]


async def test_more_than_ten_ids(client: httpx.AsyncClient) -> None:
    eleven = ",".join(f"id{i}" for i in range(11))
    body = await error(await v3({"VideoIds": eleven}).send(client), 400, "InvalidParameter")
    assert "VideoIds max 10" in body["Message"]
    ten = ",".join(f"id{i}" for i in range(10))
    assert (await v3({"VideoIds": ten}).send(client)).status_code == 200


async def test_duplicates_and_empty_entries(client: httpx.AsyncClient, app: Starlette) -> None:
    [video] = ids(app, "CompleteAllFail", 1)
    raw = f",{video}, {video},nope,,nope"
    body = (await v3({"VideoIds": raw}).send(client)).json()
    assert [s["VideoId"] for s in body["TranscodeSummaryList"]] == [video]
    assert body["NonExistVideoIds"] == ["nope"]


async def test_videos_older_than_a_year_are_in_neither_list(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    old = ids(app, "OlderThanAYear")
    body = (await v3({"VideoIds": ",".join(old)}).send(client)).json()
    assert body["TranscodeSummaryList"] == [] and body["NonExistVideoIds"] == []


async def test_other_actions_and_versions(client: httpx.AsyncClient) -> None:
    await error(await v3({}, action="DescribeRegions").send(client), 404, "InvalidAction.NotFound")
    call = v1({"VideoIds": "x"}, action="GetVideoInfo")
    await error(await call.send(client), 404, "InvalidAction.NotFound")
    await error(await v3({"VideoIds": "x"}, version="2014-01-01").send(client), 400, "InvalidVersion")


async def test_get_and_post_both_work(client: httpx.AsyncClient) -> None:
    assert (await v3({"VideoIds": "x"}, method="GET").send(client)).status_code == 200
    assert (await v3({"VideoIds": "x"}, method="POST").send(client)).status_code == 200
    assert (await Signed("PUT", "/").send(client)).status_code == 405


async def test_progress_advances_with_the_manual_clock(
    client: httpx.AsyncClient, app: Starlette, manual_clock: ManualClock
) -> None:
    [video] = ids(app, "Processing", 1)

    async def summary() -> dict[str, object]:
        body = (await v3({"VideoIds": video}).send(client)).json()
        result: dict[str, object] = body["TranscodeSummaryList"][0]
        return result

    first = await summary()
    await manual_clock.advance(300)
    last = await summary()
    assert first["TranscodeStatus"] == "Processing" and "CompleteTime" not in first
    assert last["TranscodeStatus"] in ("CompleteAllSucc", "CompleteAllFail", "CompletePartialSucc")
    assert "CompleteTime" in last


async def test_flow_control_window(
    client: httpx.AsyncClient, app: Starlette, manual_clock: ManualClock
) -> None:
    codes = [(await v3({"VideoIds": "x"}).send(client)).status_code for _ in range(20)]
    assert codes == [200] * 15 + [400] * 5
    await error(await v1({"VideoIds": "x"}).send(client), 400, "Throttling.User")
    await manual_clock.advance(0.5)
    assert (await v3({"VideoIds": "x"}).send(client)).status_code == 400
    await manual_clock.advance(0.5)  # the first 15 leave the window; refusals never entered it
    codes = [(await v3({"VideoIds": "x"}).send(client)).status_code for _ in range(16)]
    assert codes == [200] * 15 + [400]
    stats = state_of(app).stats
    assert stats.accepted == 30 and stats.throttled == 8
    assert stats.max_calls_in_any_window() == 15


async def test_throttling_message_and_key_isolation(make_app: AppFactory) -> None:
    app = make_app(qps=1, keys=(AccessKey(AK, SK), AccessKey("LTAIsecond", "s2")))
    async with asgi_client(app) as client:
        assert (await v3({"VideoIds": "x"}).send(client)).status_code == 200
        body = await error(await v3({"VideoIds": "x"}).send(client), 400, "Throttling.User")
        assert body["Message"] == "Request was denied due to user flow control."
        call = v3({"VideoIds": "x"}, key="LTAIsecond", secret="s2")
        assert (await call.send(client)).status_code == 200


async def test_unlimited_qps(make_app: AppFactory) -> None:
    async with asgi_client(make_app(qps=0)) as client:
        for _ in range(40):
            assert (await v3({"VideoIds": "x"}).send(client)).status_code == 200


async def test_latency_is_spent_before_admission(make_app: AppFactory, manual_clock: ManualClock) -> None:
    app = make_app(latency_ms=(50.0, 50.0), qps=1)
    async with asgi_client(app) as client:
        first = asyncio.create_task(v3({"VideoIds": "x"}).send(client))
        second = asyncio.create_task(v3({"VideoIds": "x"}).send(client))
        await manual_clock.idle()
        assert manual_clock.sleepers == 2
        assert state_of(app).stats.calls == 0  # nothing admitted while in transit
        await manual_clock.advance(0.05)
        statuses = sorted([(await first).status_code, (await second).status_code])
        assert statuses == [200, 400]  # both arrived in the same instant: one is throttled


async def test_latency_range_is_seeded() -> None:
    config = EmulatorConfig(latency_ms=(20.0, 60.0), catalogue_size=0, seed=5)
    a = EmulatorState.build(config, ManualClock())
    b = EmulatorState.build(config, ManualClock())
    delays = [a.latency() for _ in range(50)]
    assert delays == [b.latency() for _ in range(50)]
    assert all(0.02 <= d <= 0.06 for d in delays) and len(set(delays)) > 1
