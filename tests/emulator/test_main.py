from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from gateway.emulator.banner import describe
from gateway.emulator.catalogue import Catalogue
from gateway.emulator.config import (
    DEMO_ACCESS_KEY_ID,
    DEMO_ACCESS_KEY_SECRET,
    AccessKey,
    EmulatorConfig,
    FaultRates,
)
from gateway.emulator.main import run
from gateway.emulator.model import STATUSES
from tests.support.clock import ManualClock

ROOT = Path(__file__).parents[2]


def test_banner_lists_url_keys_and_ids() -> None:
    config = EmulatorConfig(catalogue_size=100, faults=FaultRates(hang=0.1), latency_ms=(20, 60))
    catalogue = Catalogue.generate(100, 1, ManualClock())
    text = describe(config, catalogue, "http://127.0.0.1:9000")
    assert "http://127.0.0.1:9000" in text
    assert DEMO_ACCESS_KEY_ID in text and DEMO_ACCESS_KEY_SECRET in text
    assert "hang:0.1" in text and "20-60 ms" in text
    for status, ids in catalogue.sample_ids().items():
        assert ids and all(i in text for i in ids), status
    assert all(status in text for status in STATUSES)
    assert catalogue.nonexistent_id in text


def test_banner_hides_configured_secrets() -> None:
    config = EmulatorConfig(keys=(AccessKey("LTAImine", "very-secret", "sts-token-value"),))
    text = describe(config, Catalogue.generate(10, 1, ManualClock()), "http://x")
    assert "LTAImine" in text
    assert "very-secret" not in text and "sts-token-value" not in text


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--qps", "many"], "--qps"),
        (["--port", "99999"], "--port"),
        (["--port", "abc"], "--port"),
        (["--keys", "x"], "--keys"),
    ],
)
def test_bad_arguments_exit_2(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err


def test_a_bad_port_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOD_EMULATOR_PORT", "nine")
    assert run([]) == 2
    assert capsys.readouterr().err == "error: VOD_EMULATOR_PORT: expected a port 0-65535, got 'nine'\n"


def test_help_names_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(["--help"])
    assert capsys.readouterr().out.startswith("usage: vod-gateway emulator ")


def test_runs_standalone() -> None:
    env = {**os.environ, "VOD_EMULATOR_CATALOGUE": "50", "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, "-m", "gateway.emulator", "--port", "0", "--seed", "3"]
    with subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            url = first.rsplit(" at ", 1)[1].strip()
            body = httpx.get(f"{url}/_emulator/catalogue", timeout=10).json()
            assert body["size"] == 50 and body["seed"] == 3
        finally:
            proc.terminate()
            proc.wait(timeout=10)
