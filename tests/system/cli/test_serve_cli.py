"""The real CLI as a separate process: ``python -m gateway`` on bad configuration, its help, its port and its
banner; ``python -m gateway.config``; ``python -m gateway.emulator`` standalone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import httpx

from gateway.config.settings import configuration_markdown
from tests.support.curl import curl_body, curl_command
from tests.support.paths import ROOT
from tests.support.processes import free_port


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "VOD_", "GATEWAY_"))}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_without_credentials_exits_2_with_one_line() -> None:
    result = run_cli("serve")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    for word in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "--emulator"):
        assert word in lines[0]


def test_serve_with_a_bad_setting_exits_2() -> None:
    result = run_cli("serve", "--emulator", VOD_QPS="lots")
    assert result.returncode == 2 and "VOD_QPS" in result.stderr and "Traceback" not in result.stderr


def test_serve_emulator_with_redis_unreachable_exits_2_with_one_line() -> None:
    """The embedded emulator is already up when Redis is checked: it is stopped quietly."""
    result = run_cli("serve", "--emulator", "--port", "0", GATEWAY_REDIS_URL="redis://:pw-41d@127.0.0.1:1/0")
    assert result.returncode == 2
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1 and "GATEWAY_REDIS_URL" in lines[0] and "pw-41d" not in lines[0]


def test_serve_on_port_0_prints_the_port_it_got() -> None:
    env = {**os.environ, "GATEWAY_LOG_LEVEL": "WARNING"}
    cli = [sys.executable, "-m", "gateway", "serve", "--emulator", "--port", "0"]
    with subprocess.Popen(cli, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            graphql = proc.stdout.readline()
        finally:
            proc.terminate()
    assert "embedded VOD emulator" in first
    assert "http://127.0.0.1:" in graphql and ":0/" not in graphql


def test_help_and_export_schema_as_a_module() -> None:
    usage = run_cli("--help")
    assert usage.returncode == 0 and "``" not in usage.stdout
    for command in ("serve", "export-schema"):
        assert command in usage.stdout
    serve = run_cli("serve", "--help")
    assert "--emulator" in serve.stdout and "default 8000" in serve.stdout
    exported = run_cli("export-schema")
    assert exported.returncode == 0 and "type Query" in exported.stdout


def test_python_m_gateway_config_prints_the_tables() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    printed = subprocess.run(
        [sys.executable, "-m", "gateway.config"], env=env, capture_output=True, text=True, timeout=60
    )
    assert printed.returncode == 0 and printed.stderr == ""
    assert printed.stdout == configuration_markdown()


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
