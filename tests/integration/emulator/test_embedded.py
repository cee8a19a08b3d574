"""``serve --emulator``: the embedded emulator, its knobs, and the start-up text's query, pasted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config.settings import SettingsError, load_settings
from gateway.emulator.config import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, AccessKey
from gateway.emulator.embedded import (
    DEMO_LATENCY_MS,
    EmbeddedEmulator,
    embedded_config,
    start_embedded_emulator,
)
from tests.support.curl import curl_body, curl_command
from tests.support.server import ThreadedServer


@pytest.fixture
async def embedded() -> AsyncIterator[EmbeddedEmulator]:
    emulator = await start_embedded_emulator(environ={"VOD_EMULATOR_CATALOGUE": "100"})
    try:
        yield emulator
    finally:
        await emulator.stop()


def check_pasted_answer(body: dict[str, Any], finished: str, missing: str) -> None:
    assert body["data"]["transcodeSummaries"][0]["videoId"] == finished
    assert body["data"]["transcodeSummaries"][0]["transcodeStatus"] == "COMPLETE_ALL_SUCC"
    assert body["data"]["transcodeSummaries"][1] is None
    [error] = body["errors"]
    assert error["path"] == ["transcodeSummaries", 1]
    assert error["extensions"] == {"code": "VIDEO_NOT_FOUND", "videoId": missing}


async def test_banner_query_and_default_query_work(embedded: EmbeddedEmulator) -> None:
    settings = load_settings({}).with_overrides(credentials=embedded.credentials, vod_endpoint=embedded.url)
    # the gateway on its own thread; the emulator answers on this test's event loop
    with ThreadedServer(create_app(settings, default_query=embedded.default_query)) as gateway:
        banner = embedded.banner("127.0.0.1", gateway.port)
        assert banner.startswith("vod-gateway is running on the embedded VOD emulator")
        assert f"GraphQL:   {gateway.url}/graphql" in banner
        assert f"emulator:  {embedded.url}   (AccessKeyId {DEMO_ACCESS_KEY_ID})" in banner
        url, headers, data = curl_body(curl_command(banner))
        (finished, *_), missing = embedded.demo_ids()
        async with httpx.AsyncClient() as client:
            pasted = await client.post(url, headers=headers, content=data)
            check_pasted_answer(pasted.json(), finished, missing)
            default = await client.post(url, json={"query": embedded.default_query})
    body = default.json()
    statuses = [s and s["transcodeStatus"] for s in body["data"]["transcodeSummaries"]]
    assert statuses == ["COMPLETE_ALL_SUCC", "PROCESSING", "COMPLETE_ALL_FAIL", None]
    assert [e["path"] for e in body["errors"]] == [["transcodeSummaries", 3]]


def test_knobs_come_from_the_environment() -> None:
    assert embedded_config({}).latency_ms == DEMO_LATENCY_MS
    config = embedded_config(
        {
            "VOD_EMULATOR_LATENCY": "0",
            "VOD_EMULATOR_FAULTS": "5xx:0.5",
            "VOD_EMULATOR_QPS": "3",
            "VOD_EMULATOR_CATALOGUE": "40",
            "VOD_EMULATOR_SEED": "9",
            "VOD_EMULATOR_KEYS": "LTAIone:s1:tok,LTAItwo:s2",
        }
    )
    assert config.latency_ms == (0.0, 0.0) and config.faults.server_error == 0.5
    assert (config.qps, config.catalogue_size, config.seed) == (3, 40, 9)
    assert config.keys == (AccessKey("LTAIone", "s1", "tok"), AccessKey("LTAItwo", "s2"))


def test_a_bad_knob_is_a_settings_error_naming_it() -> None:
    with pytest.raises(SettingsError, match=r"^VOD_EMULATOR_QPS: expected a non-negative integer"):
        embedded_config({"VOD_EMULATOR_QPS": "lots"})


async def test_the_gateway_signs_with_the_first_configured_key() -> None:
    emulator = await start_embedded_emulator(
        environ={"VOD_EMULATOR_KEYS": "LTAIone:s1:tok", "VOD_EMULATOR_CATALOGUE": "0"}
    )
    try:
        creds = emulator.credentials
        assert (creds.access_key_id, creds.access_key_secret.reveal()) == ("LTAIone", "s1")
        assert creds.security_token is not None and creds.security_token.reveal() == "tok"
        banner = emulator.banner("127.0.0.1", 8000)
        assert "AccessKeyId LTAIone" in banner and "s1" not in banner
        assert emulator.catalogue.nonexistent_id in banner  # no finished video to show: still valid
    finally:
        await emulator.stop()


def test_demo_credentials_are_the_published_pair() -> None:
    config = embedded_config({})
    assert config.keys == (AccessKey(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET),)
