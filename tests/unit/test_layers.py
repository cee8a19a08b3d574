"""The shape of the package: the layers import only downwards, the app doesn't import the emulator,
no test double ships, no module grows past 300 lines, and few modules sit loose at the top."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT

GATEWAY = ROOT / "gateway"
LAYERS = ["http", "schema", "loading", "vod"]  # each may import the ones after it, never before


def _modules() -> list[Path]:
    return sorted(p for p in GATEWAY.rglob("*.py") if "static" not in p.parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_importing_the_app_does_not_import_the_emulator() -> None:
    code = (
        "import sys, gateway.app; print(sorted(m for m in sys.modules if m.startswith('gateway.emulator')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_layers_import_only_downwards() -> None:
    wrong = []
    for path in _modules():
        layer = path.relative_to(GATEWAY).parts[0]
        if layer not in LAYERS:
            continue
        above = LAYERS[: LAYERS.index(layer)]
        for module in _imports(path):
            parts = module.split(".")
            if parts[0] == "gateway" and len(parts) > 1 and parts[1] in above:
                wrong.append(f"{path.relative_to(GATEWAY)} imports {module}")
    assert wrong == []


def test_vod_knows_no_graphql() -> None:
    graphql = {"strawberry", "graphql"}
    wrong = [
        f"{p.relative_to(GATEWAY)} imports {m}"
        for p in GATEWAY.joinpath("vod").rglob("*.py")
        for m in _imports(p)
        if m.split(".")[0] in graphql
    ]
    assert wrong == []


def test_no_test_double_ships_in_the_package() -> None:
    names = {"ManualClock", "InstantClock", "ThreadedServer", "settle"}
    defined = [
        f"{p.relative_to(GATEWAY)}: {n.name}"
        for p in _modules()
        for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(n, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and n.name in names
    ]
    assert defined == []


def test_no_module_over_300_lines() -> None:
    long = {
        str(p.relative_to(GATEWAY)): n for p in _modules() if (n := len(p.read_text().splitlines())) > 300
    }
    assert long == {}


def test_at_most_8_modules_loose_at_the_top() -> None:
    loose = sorted(p.name for p in GATEWAY.glob("*.py"))
    assert len(loose) <= 8, loose
