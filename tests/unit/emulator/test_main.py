from __future__ import annotations

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
