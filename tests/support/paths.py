"""Where things are, for tests that read the repository's files: one place, whatever a test's depth."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root (the worktree)."""

DATA = ROOT / "tests" / "data"
"""Fixtures shared with other tools: signature vectors, the Compose spec schema."""
