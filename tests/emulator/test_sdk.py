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

from gateway.emulator.server import ThreadedServer
from gateway.emulator.state import EmulatorState

from .conftest import AppFactory
from .support import AK, SK, state_of

NEW_SDK = [None, "v2"]  # V3 (default) and V1 signatures


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


def wanted(state: EmulatorState) -> tuple[list[str], dict[str, dict[str, Any]]]:
    samples = state.sample_ids(1)
    known = [samples[s][0] for s in ("CompleteAllSucc", "Processing", "CompletePartialSucc")]
    expected = {s["VideoId"]: s for s in state.catalogue.summaries(known)[0]}
    return [*known, state.catalogue.nonexistent_id], expected


def check(body: dict[str, Any], state: EmulatorState) -> None:
    """The SDK saw the seeded summaries (the new SDK's model keeps only the fields it knows)."""
    expected = wanted(state)[1]
    assert body["NonExistVideoIds"] == [state.catalogue.nonexistent_id]
    got = {s["VideoId"]: s for s in body["TranscodeSummaryList"]}
    assert got.keys() == expected.keys()
    for video_id, summary in got.items():
        jobs = summary.pop("TranscodeJobInfoSummaryList")
        want_jobs = expected[video_id]["TranscodeJobInfoSummaryList"]
        assert summary.items() <= expected[video_id].items()
        assert {"VideoId", "TranscodeStatus", "CreationTime"} <= summary.keys()
        assert len(jobs) == len(want_jobs)
        for job, want in zip(jobs, want_jobs, strict=True):
            assert job.items() <= want.items()
            assert {"TranscodeJobStatus", "TranscodeProgress", "Width"} <= job.keys()


@pytest.mark.parametrize("algorithm", NEW_SDK, ids=["v3", "v1"])
def test_new_sdk(server: ThreadedServer, app: Starlette, algorithm: str | None) -> None:
    state = state_of(app)
    check(new_call(new_client(server, algorithm), wanted(state)[0]), state)


@pytest.mark.parametrize("algorithm", NEW_SDK, ids=["v3", "v1"])
def test_new_sdk_with_sts(server: ThreadedServer, app: Starlette, algorithm: str | None) -> None:
    state = state_of(app)
    client = new_client(server, algorithm, token="CAIS+sts/token==ABC")
    check(new_call(client, wanted(state)[0]), state)


@pytest.mark.parametrize("algorithm", NEW_SDK, ids=["v3", "v1"])
def test_new_sdk_wrong_secret(server: ThreadedServer, algorithm: str | None) -> None:
    with pytest.raises(ClientException) as caught:
        new_call(new_client(server, algorithm, secret="wrong"), ["x"])
    assert caught.value.code == "SignatureDoesNotMatch"
    assert caught.value.status_code == 400


def test_old_sdk(server: ThreadedServer, app: Starlette) -> None:
    state = state_of(app)
    check(old_call(server, wanted(state)[0], ak=AK, secret=SK), state)


def test_old_sdk_with_sts(server: ThreadedServer, app: Starlette) -> None:
    state = state_of(app)
    credential = StsTokenCredential(AK, SK, "CAIS+sts/token==ABC")
    check(old_call(server, wanted(state)[0], credential=credential), state)


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
    assert codes.count("Throttling.User") == 5 and codes.count("ok") == 15
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
