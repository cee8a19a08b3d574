"""The table of settings is the one place a setting is declared: Settings and README.md follow it."""

from __future__ import annotations

from collections import Counter
from dataclasses import MISSING, fields

import pytest

from gateway.config.settings import (
    DEFAULTS,
    ROWS,
    Row,
    Settings,
    configuration_markdown,
    load_settings,
    row_of,
)
from tests.support.paths import ROOT


def readme_tables() -> str:
    """README.md's "Configuration" section from its generated part on (after the intro)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return section[section.index("<!--") :].strip() + "\n"


def test_the_readme_lists_the_table() -> None:
    assert readme_tables() == configuration_markdown(), (
        "README.md's Configuration section differs from the table in gateway/config/settings.py: "
        "replace it with the output of `python -m gateway.config`"
    )


def test_every_field_has_exactly_one_row_with_its_default() -> None:
    attrs = Counter(row.attr for row in ROWS if row.attr is not None)
    assert attrs == Counter(f.name for f in fields(Settings))
    for f in fields(Settings):
        assert f.default is not MISSING and f.default == row_of_attr(f.name).default, f.name


def test_every_variable_is_listed_once() -> None:
    [(_, most)] = Counter(row.variable for row in ROWS).most_common(1)
    assert most == 1


def test_an_empty_environment_gives_the_defaults() -> None:
    assert load_settings({}) == Settings() == DEFAULTS
    assert DEFAULTS.max_ids == row_of("GATEWAY_MAX_IDS").default == 1500


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r.attr and not r.read and r.default is not None], ids=lambda r: r.variable
)
def test_the_default_the_readme_shows_reads_back_as_the_default(row: Row) -> None:
    shown = next(line for line in configuration_markdown().splitlines() if f"| `{row.variable}` |" in line)
    value = shown.split(" | ")[1].strip("`")
    if value == "—":
        assert row.default == ()
    else:
        assert getattr(load_settings({row.variable: value}), str(row.attr)) == row.default


def row_of_attr(attr: str) -> Row:
    [row] = [r for r in ROWS if r.attr == attr]
    return row
