from __future__ import annotations

import argparse

import pytest

from gateway.emulator.config import (
    DEMO_ACCESS_KEY_ID,
    DEMO_ACCESS_KEY_SECRET,
    AccessKey,
    EmulatorConfig,
    FaultRates,
    add_cli_arguments,
    config_from_args,
)


def parse(argv: list[str], env: dict[str, str] | None = None) -> EmulatorConfig:
    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    return config_from_args(parser.parse_args(argv), env or {})


def test_defaults() -> None:
    config = parse([])
    assert config == EmulatorConfig()
    assert config.latency_ms == (0.0, 0.0)
    assert config.faults.total == 0
    assert (config.qps, config.catalogue_size, config.seed) == (15, 5000, 1)
    assert config.keys == (AccessKey(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET),)


def test_every_flag() -> None:
    config = parse(
        [
            "--latency", "20-60",
            "--faults", "5xx:0.1,hang:0.02,garbage:0.05,reset:0.01,throttle:0.05",
            "--qps", "0",
            "--catalogue", "10",
            "--seed", "-3",
            "--keys", "id1:s1,id2:s2:tok",
        ]
    )  # fmt: skip
    assert config.latency_ms == (20.0, 60.0)
    assert config.faults == FaultRates(server_error=0.1, hang=0.02, garbage=0.05, reset=0.01, throttle=0.05)
    assert (config.qps, config.catalogue_size, config.seed) == (0, 10, -3)
    assert config.keys == (AccessKey("id1", "s1"), AccessKey("id2", "s2", "tok"))
    assert config.key("id2") == AccessKey("id2", "s2", "tok")
    assert config.key("nope") is None


def test_single_latency_value() -> None:
    assert parse(["--latency", "30"]).latency_ms == (30.0, 30.0)


def test_environment_fills_in_and_flags_win() -> None:
    env = {"VOD_EMULATOR_QPS": "7", "VOD_EMULATOR_SEED": "9", "VOD_EMULATOR_LATENCY": "5"}
    config = parse(["--seed", "2"], env)
    assert (config.qps, config.seed, config.latency_ms) == (7, 2, (5.0, 5.0))
    assert EmulatorConfig.from_env(env) == parse([], env)


def test_blank_environment_values_mean_default() -> None:
    assert parse([], {"VOD_EMULATOR_QPS": " "}).qps == 15


@pytest.mark.parametrize(
    ("argv", "env", "names"),
    [
        (["--latency", "60-20"], {}, "--latency"),
        (["--latency", "-5"], {}, "--latency"),
        (["--latency", "abc"], {}, "--latency"),
        (["--qps", "-1"], {}, "--qps"),
        (["--qps", "1.5"], {}, "--qps"),
        (["--catalogue", "many"], {}, "--catalogue"),
        (["--seed", "x"], {}, "--seed"),
        (["--faults", "5xx:2"], {}, "--faults"),
        (["--faults", "5xx:0.6,hang:0.6"], {}, "--faults"),
        (["--faults", "explode:0.1"], {}, "--faults"),
        (["--faults", "5xx"], {}, "--faults"),
        ([], {"VOD_EMULATOR_QPS": "lots"}, "VOD_EMULATOR_QPS"),
        ([], {"VOD_EMULATOR_FAULTS": "hang:nan"}, "VOD_EMULATOR_FAULTS"),
    ],
)
def test_bad_values_name_their_source(argv: list[str], env: dict[str, str], names: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse(argv, env)
    message = str(caught.value)
    assert message.startswith(names + ":")
    assert "\n" not in message


@pytest.mark.parametrize("keys", ["justanid", "id:", ":secret", "id:topsecret,broken"])
def test_bad_keys_never_echo_secrets(keys: str) -> None:
    with pytest.raises(ValueError, match=r"^--keys:") as caught:
        parse(["--keys", keys])
    assert repr(keys) not in str(caught.value)
    assert "topsecret" not in str(caught.value)


def test_secrets_stay_out_of_repr() -> None:
    config = parse(["--keys", "myid:hunter2:tokentoken"])
    assert "hunter2" not in repr(config)
    assert "hunter2" not in repr(config.keys)
    assert "tokentoken" not in repr(config.keys)


def test_direct_construction_validates() -> None:
    with pytest.raises(ValueError):
        EmulatorConfig(keys=())
    with pytest.raises(ValueError):
        EmulatorConfig(qps=-1)
    with pytest.raises(ValueError):
        FaultRates(hang=-0.1)


def test_fault_description() -> None:
    assert FaultRates().describe() == "none"
    assert FaultRates(server_error=0.1, reset=0.01).describe() == "5xx:0.1,reset:0.01"


def test_flags_do_not_collide_with_other_options() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port")
    add_cli_arguments(parser)
    ns = parser.parse_args(["--port", "1", "--qps", "3"])
    assert ns.port == "1"
    assert config_from_args(ns, {}).qps == 3
