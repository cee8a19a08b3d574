"""Node.js for the tests that drive JavaScript (client libraries, JS gateways, the browser): the
binary, once the npm packages a test folder pins are installed; else the test is skipped with the
command that installs them (CI installs them all: ``make test`` and ``make test-system`` do)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def node_with(packages: Path, what: str, hint: str) -> str:
    """The ``node`` binary, if ``packages`` (a folder of ``node_modules``) exists; ``what`` needs it."""
    binary = shutil.which("node")
    if binary is None:
        pytest.skip(f"node is not installed: {what} need Node.js 20+; then {hint}")
    if not packages.is_dir():
        pytest.skip(f"{packages} is missing: {hint}")
    return binary
