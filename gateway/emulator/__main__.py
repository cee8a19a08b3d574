from __future__ import annotations

from gateway.emulator.main import run

raise SystemExit(run(prog="python -m gateway.emulator"))
