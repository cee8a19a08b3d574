"""``serve --emulator``: the embedded emulator, its knobs, and the start-up text's query, pasted."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
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
from tests.support.server import ThreadedServer

ROOT = Path(__file__).parents[2]


def curl_command(banner: str) -> list[str]:
    """The ``curl`` the banner prints, as a shell would split it after pasting."""
    text = banner.split("  try:\n", 1)[1].replace("\\\n", " ")
    return shlex.split(text)


def curl_body(argv: list[str]) -> tuple[str, dict[str, str], bytes]:
    assert argv[:2] == ["curl", "-s"] and argv[3] == "-H" and argv[5] == "-d", argv
    name, value = argv[4].split(": ", 1)
    return argv[2], {name: value}, argv[6].encode()


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_emulator_prints_a_query_that_works_when_pasted() -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "VOD_", "GATEWAY_"))},
        "PYTHONUNBUFFERED": "1",
    }
    argv = [sys.executable, "-m", "gateway", "serve", "--emulator", "--port", str(port)]
    with subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline() for _ in range(7)]
            banner = "".join(lines)
            assert lines[0].startswith("vod-gateway is running on the embedded VOD emulator"), banner
            assert f"http://127.0.0.1:{port}/graphql" in lines[1]
            argv = curl_command(banner)
            if shutil.which("curl"):
                out = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=True).stdout
                body = httpx.Response(200, content=out.encode()).json()
            else:
                url, headers, data = curl_body(argv)
                body = httpx.post(url, headers=headers, content=data, timeout=20).json()
            assert body["data"]["transcodeSummaries"][0]["transcodeStatus"] == "COMPLETE_ALL_SUCC"
            assert body["errors"][0]["extensions"]["code"] == "VIDEO_NOT_FOUND"
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def test_demo_credentials_are_the_published_pair() -> None:
    config = embedded_config({})
    assert config.keys == (AccessKey(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET),)
