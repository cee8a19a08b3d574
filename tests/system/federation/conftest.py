"""Fixtures for the JS-gateway tests: the Node.js binary, processes from ``js/`` (catalog subgraph,
Apollo Gateway, stitched gateway), composition reports, and the 30 video IDs they are asked for."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.emulator.model import ALL_FAILED, ALL_SUCCEEDED, PARTLY_SUCCEEDED
from tests.support.harness import Emulator
from tests.support.node import node_with
from tests.system.federation.jsprocs import HERE, JS, MISSING_AT, NodeProcess, node_env, start_node

SETUP_HINT = "run `make federation-deps` (or `cd tests/system/federation && npm ci`)"
TERMINAL = (ALL_SUCCEEDED, ALL_FAILED, PARTLY_SUCCEEDED)


@pytest.fixture(scope="session")
def node() -> str:
    """The Node.js binary, once the pinned npm packages are installed (else the test is skipped)."""
    return node_with(HERE / "node_modules" / "@apollo" / "gateway", "the JS-gateway tests", SETUP_HINT)


@pytest.fixture
def start_js(node: str, tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    """``start_js("catalog.mjs", *args, **env)``: a running process; all are stopped after the test."""
    started: list[NodeProcess] = []

    def start(script: str, *args: str, **env: str) -> NodeProcess:
        log = tmp_path / f"{script}.{len(started)}.log"
        try:
            process = start_node(node, script, list(args), env, log)
        except RuntimeError as exc:
            pytest.fail(str(exc))
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in reversed(started):
            process.stop()


@pytest.fixture
def compose(node: str) -> Callable[..., dict[str, Any]]:
    """Runs js/compose.mjs (``@apollo/composition``) and returns its report: errors and hints."""

    def run(*args: str) -> dict[str, Any]:
        completed = subprocess.run(
            [node, str(JS / "compose.mjs"), *args],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=60,
            env=node_env(),
            check=False,
        )
        lines = completed.stdout.strip().splitlines()
        assert lines, f"compose.mjs printed nothing:\n{completed.stderr}"
        report: dict[str, Any] = json.loads(lines[-1])
        return report

    return run


@pytest.fixture
def thirty_ids(emulator: Emulator) -> list[str]:
    """28 videos in a terminal status (stable values) and 2 that don't exist, at MISSING_AT."""
    catalogue = emulator.state.catalogue
    ids = [i for i in catalogue.ids if catalogue.status(i) in TERMINAL][:28]
    assert len(ids) == 28
    made_up = "0" * 31 + "f"  # the catalogue's ID shape (32 hex digits), but not in it
    assert made_up not in catalogue
    for index, missing in zip(MISSING_AT, (catalogue.nonexistent_id, made_up), strict=True):
        ids.insert(index, missing)
    return ids
