"""The example progress page (examples/progress-page) in headless Chromium against the real gateway on
its embedded emulator: the bars, fed by a subscription over SSE, move and reach 100% as the emulator's
clock is advanced; the list streams in with @stream. The page is built from its pinned npm packages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.paths import ROOT
from tests.support.processes import Process, ProcessFailed, free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

HERE = Path(__file__).resolve().parent
EXAMPLE = ROOT / "examples" / "progress-page"
SCREENSHOT = ROOT / "test-artifacts" / "progress-page.png"


@pytest.fixture(scope="module")
def built(browser_tools: Path) -> Path:
    if not (EXAMPLE / "node_modules" / "graphql-sse").is_dir():
        pytest.skip("examples/progress-page/node_modules is missing: run `make browser-deps`")
    subprocess.run(
        [str(browser_tools), "build.mjs"], cwd=EXAMPLE, check=True, timeout=120, capture_output=True
    )
    return browser_tools


def test_bars_move_and_reach_100_and_the_list_streams_in(built: Path, tmp_path: Path) -> None:
    page_port, port, emulator_port = free_port(), free_port(), free_port()
    origin = f"http://127.0.0.1:{page_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "VOD_"))}
    env.update(GATEWAY_CORS_ORIGINS=origin, GATEWAY_POLL_INTERVAL="0.2", PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "gateway", "serve", "--emulator", "--port", str(port)]
    command += ["--emulator-port", str(emulator_port)]
    emulator = f"http://127.0.0.1:{emulator_port}"
    with (
        Process(command, env, tmp_path / "gateway.log", cwd=ROOT) as gateway,
        Process(
            [str(built), "serve.mjs", "--port", str(page_port)], None, tmp_path / "page.log", cwd=EXAMPLE
        ) as page,
    ):
        try:
            gateway.wait_http(f"http://127.0.0.1:{port}/healthz", seconds=30)
            page.wait_http(origin + "/", seconds=30)
        except ProcessFailed as exc:
            pytest.fail(str(exc))
        samples = httpx.get(emulator + "/_emulator/catalogue", params={"per_status": 8}).json()["samples"]
        bars = samples["Processing"][:3]
        listed = [
            i
            for s in ("CompleteAllSucc", "Partial", "CompleteAllFail", "CompletePartialSucc")
            for i in samples[s]
        ]
        url = (
            f"{origin}/?gateway=http://127.0.0.1:{port}/graphql&ids={','.join(bars)}&list={','.join(listed)}"
        )
        completed = subprocess.run(
            [str(built), str(HERE / "progress-page.e2e.mjs"), "--page", url, "--emulator-url", emulator,
             "--screenshot", str(SCREENSHOT)],
            cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
            env={**os.environ, "CHROMIUM_PATH": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")},
        )  # fmt: skip
    lines = completed.stdout.strip().splitlines()
    assert lines, completed.stderr
    report = json.loads(lines[-1])
    assert report["failures"] == [] and report["pageErrors"] == [] and report["notes"] == [], report
    assert sorted(report["bars"]) == sorted(bars)
    for video, values in report["bars"].items():
        assert values[-1] == 100, (video, values)
        assert values[0] < 100 and len(values) >= 3, (video, values)  # it moved: from below, through steps
        assert values == sorted(values), (video, values)
        assert report["statuses"][video].startswith("COMPLETE_"), report["statuses"]
    assert len(report["list"]) == len(listed)
    assert Path(report["screenshot"]).is_file()
