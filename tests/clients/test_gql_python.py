"""Python's gql (python/gql_client.py, in its own venv from python/requirements.txt: `make client-deps`)
against the gateway: a query with a missing video over HTTP, and subscriptions over both WebSocket
subprotocols followed through real progress to completion."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from tests.clients.conftest import HERE, Target
from tests.clients.expect import assert_progress_to_the_end

pytestmark = pytest.mark.timeout(300)
PYTHON = HERE / "python" / ".venv" / "bin" / "python"


def run_gql(target: Target, only: str) -> dict[str, Any]:
    if not PYTHON.is_file():
        pytest.skip("tests/clients/python/.venv is missing: run `make client-deps`")
    command = [
        str(PYTHON), str(HERE / "python" / "gql_client.py"),
        "--url", target.url, "--emulator", target.emulator.url, "--processing", json.dumps(target.processing),
        "--done", target.done, "--missing", target.missing, "--only", only,
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    lines = completed.stdout.strip().splitlines()
    assert lines, completed.stderr
    report: dict[str, Any] = json.loads(lines[-1])
    assert "failed" not in report[only], report[only]["failed"]
    return report


def test_a_query_with_a_missing_video(target: Callable[..., Target]) -> None:
    t = target()
    result = run_gql(t, "query")["query"]
    assert result["data"]["transcodeSummaries"][0]["videoId"] == t.done
    assert result["data"]["transcodeSummaries"][1] is None and result["errorCodes"] == ["VIDEO_NOT_FOUND"]


@pytest.mark.parametrize("case", ["subscriptionOverGraphqlTransportWs", "subscriptionOverLegacyGraphqlWs"])
def test_subscriptions_see_progress_to_the_end(case: str, target: Callable[..., Target]) -> None:
    t = target()
    result = run_gql(t, case)[case]
    assert result["ended"] == "complete"
    assert_progress_to_the_end(result["seen"], t.processing)
