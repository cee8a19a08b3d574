"""Alibaba's official SDKs, pointed at the emulator over real loopback HTTP.

``alibabacloud-vod20170321`` signs V3 by default and V1 with ``signature_algorithm="v2"``;
``aliyun-python-sdk-core`` + ``aliyun-python-sdk-vod`` always sign V1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from alibabacloud_tea_openapi.exceptions import ClientException  # type: ignore[import-untyped]
from alibabacloud_tea_openapi.utils_models import Config  # type: ignore[import-untyped]
from alibabacloud_vod20170321 import models as vod_models  # type: ignore[import-untyped]
from alibabacloud_vod20170321.client import Client  # type: ignore[import-untyped]
from aliyunsdkcore.acs_exception.exceptions import ServerException  # type: ignore[import-untyped]
from aliyunsdkcore.auth.credentials import StsTokenCredential  # type: ignore[import-untyped]
from aliyunsdkcore.client import AcsClient  # type: ignore[import-untyped]
from aliyunsdkvod.request.v20170321.GetTranscodeSummaryRequest import GetTranscodeSummaryRequest  # type: ignore[import-untyped]
from starlette.applications import Starlette

from gateway.emulator.state import EmulatorState
from tests.support.emulator import AK, SK, AppFactory, conformance_ids, state_of
from tests.support.server import ThreadedServer

NEW_SDK = [None, "v2"]  # V3 (default) and V1 signatures
SIGNED_AS = {None: "v3", "v2": "v1"}


@pytest.fixture
def app(make_app: AppFactory) -> Starlette:
    # the conftest's ManualClock never moves: every call lands in one flow-control window
    return make_app()


@pytest.fixture
def server(app: Starlette) -> Iterator[ThreadedServer]:
    with ThreadedServer(app) as server:
        yield server


def new_client(
    server: ThreadedServer, algorithm: str | None, secret: str = SK, token: str | None = None
) -> Client:
    return Client(
        Config(
            access_key_id=AK,
            access_key_secret=secret,
            security_token=token,
            endpoint=f"127.0.0.1:{server.port}",
            protocol="http",
            signature_algorithm=algorithm,
            read_timeout=5000,
            connect_timeout=5000,
        )
    )


def new_call(client: Client, video_ids: list[str]) -> dict[str, Any]:
    request = vod_models.GetTranscodeSummaryRequest(video_ids=",".join(video_ids))
    body: dict[str, Any] = client.get_transcode_summary(request).body.to_map()
    return body


def old_call(server: ThreadedServer, video_ids: list[str], **client_args: Any) -> dict[str, Any]:
    client = AcsClient(region_id="cn-shanghai", port=server.port, auto_retry=False, **client_args)
    request = GetTranscodeSummaryRequest()
    request.set_VideoIds(",".join(video_ids))
    request.set_endpoint("127.0.0.1")
    request.set_protocol_type("http")
    body: dict[str, Any] = json.loads(client.do_action_with_exception(request))
    return body


# what the new SDK's response model has no field for, so drops: the reference table's spelling of
# the file size, and two fields only the documentation's sample shows
UNMODELLED = {"FileSize", "Definition", "Encryption"}


def expected(state: EmulatorState) -> tuple[list[str], dict[str, Any]]:
    """The IDs to ask for, and the body the emulator answers for them (without RequestId)."""
    ids = conformance_ids(state)
    found, missing = state.catalogue.summaries(ids)
    assert found and missing == [state.catalogue.nonexistent_id]
    return ids, {"NonExistVideoIds": missing, "TranscodeSummaryList": found}


def signatures(state: EmulatorState) -> list[str | None]:
    return [r.signature for r in state.stats.records]


def check_raw(body: dict[str, Any], state: EmulatorState) -> None:
    """The old SDK hands back the JSON as sent: exactly the seeded summaries."""
    assert body.pop("RequestId")
    assert body == expected(state)[1]


def check_modelled(body: dict[str, Any], state: EmulatorState) -> None:
    """The new SDK's model keeps the fields it knows, values untouched, and drops only the others."""
    want = expected(state)[1]
    assert body.pop("RequestId")
    assert body["NonExistVideoIds"] == want["NonExistVideoIds"]
    assert len(body["TranscodeSummaryList"]) == len(want["TranscodeSummaryList"])
    for got, summary in zip(body["TranscodeSummaryList"], want["TranscodeSummaryList"], strict=True):
        jobs, want_jobs = got.pop("TranscodeJobInfoSummaryList"), summary["TranscodeJobInfoSummaryList"]
        assert got == {k: v for k, v in summary.items() if k != "TranscodeJobInfoSummaryList"}
        assert len(jobs) == len(want_jobs)
        for job, want_job in zip(jobs, want_jobs, strict=True):
            assert job == {k: v for k, v in want_job.items() if k not in UNMODELLED}


@pytest.mark.parametrize("algorithm", NEW_SDK, ids=["v3", "v1"])
def test_new_sdk(server: ThreadedServer, app: Starlette, algorithm: str | None) -> None:
    state = state_of(app)
    check_modelled(new_call(new_client(server, algorithm), expected(state)[0]), state)
    assert signatures(state) == [SIGNED_AS[algorithm]]


@pytest.mark.parametrize("algorithm", NEW_SDK, ids=["v3", "v1"])
def test_new_sdk_with_sts(server: ThreadedServer, app: Starlette, algorithm: str | None) -> None:
    state = state_of(app)
    client = new_client(server, algorithm, token="CAIS+sts/token==ABC")
    check_modelled(new_call(client, expected(state)[0]), state)
    assert signatures(state) == [SIGNED_AS[algorithm]]


@pytest.mark.parametrize("algorithm", NEW_SDK, ids=["v3", "v1"])
def test_new_sdk_wrong_secret(server: ThreadedServer, algorithm: str | None) -> None:
    with pytest.raises(ClientException) as caught:
        new_call(new_client(server, algorithm, secret="wrong"), ["x"])
    assert caught.value.code == "SignatureDoesNotMatch"
    assert caught.value.status_code == 400


def test_old_sdk(server: ThreadedServer, app: Starlette) -> None:
    state = state_of(app)
    check_raw(old_call(server, expected(state)[0], ak=AK, secret=SK), state)
    assert signatures(state) == ["v1"]


def test_old_sdk_with_sts(server: ThreadedServer, app: Starlette) -> None:
    state = state_of(app)
    credential = StsTokenCredential(AK, SK, "CAIS+sts/token==ABC")
    check_raw(old_call(server, expected(state)[0], credential=credential), state)
    assert signatures(state) == ["v1"]


def test_old_sdk_wrong_secret(server: ThreadedServer) -> None:
    with pytest.raises(ServerException) as caught:
        old_call(server, ["x"], ak=AK, secret="wrong")
    # the service answers SignatureDoesNotMatch with its string to sign; this SDK sees that it
    # matches its own and reports the cause instead, as it does against the real service
    assert caught.value.get_error_code() == "InvalidAccessKeySecret"
    assert caught.value.get_http_status() == 400
    assert state_of_codes(server) == {"SignatureDoesNotMatch": 1}


def state_of_codes(server: ThreadedServer) -> dict[str, int]:
    codes: dict[str, int] = httpx.get(f"{server.url}/_emulator/stats").json()["codes"]
    return codes


@pytest.mark.parametrize("algorithm", NEW_SDK, ids=["v3", "v1"])
def test_burst_of_twenty_sees_exactly_five_throttled(
    server: ThreadedServer, app: Starlette, algorithm: str | None
) -> None:
    client = new_client(server, algorithm)
    codes = []
    for _ in range(20):
        try:
            new_call(client, ["x"])
            codes.append("ok")
        except ClientException as exc:
            codes.append(exc.code)
    assert codes == ["ok"] * 15 + ["Throttling.User"] * 5  # the SDK does not retry them
    stats = state_of(app).stats
    assert (stats.accepted, stats.throttled, stats.max_calls_in_any_window()) == (15, 5, 15)


def test_old_sdk_burst(server: ThreadedServer) -> None:
    codes = []
    for _ in range(20):
        try:
            old_call(server, ["x"], ak=AK, secret=SK)
            codes.append("ok")
        except ServerException as exc:
            assert exc.get_error_msg() == "Request was denied due to user flow control."
            codes.append(exc.get_error_code())
    assert codes == ["ok"] * 15 + ["Throttling.User"] * 5
