"""schema.graphql and schema.federation.graphql are exactly what the code exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("args", "file"),
    [([], "schema.graphql"), (["--federation"], "schema.federation.graphql")],
)
def test_committed_sdl_matches_the_code(
    args: list[str], file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export-schema", *args]) == 0
    exported = capsys.readouterr().out
    committed = (ROOT / file).read_text()
    assert exported == committed, f"{file} is stale: run `make schema` and commit it"


def test_plain_sdl_has_no_federation_parts() -> None:
    sdl = (ROOT / "schema.graphql").read_text()
    assert "@key" not in sdl and "_entities" not in sdl and "_Service" not in sdl
    for name in ("scalar DateTime", "scalar Long", "fileSize: Long", "videos(ids: [ID!]!): [Video!]!"):
        assert name in sdl
    assert "transcodeSummaries(videoIds: [ID!]!): [TranscodeSummary]!" in sdl


def test_subgraph_sdl_has_the_federation_contract() -> None:
    sdl = (ROOT / "schema.federation.graphql").read_text()
    assert sdl.startswith('schema @link(url: "https://specs.apollo.dev/federation/v2.')
    assert 'import: ["@key"])' in sdl.splitlines()[0]
    for part in (
        'type Video @key(fields: "id") {',
        "  transcodeSummary: TranscodeSummary\n",
        'type TranscodeSummary @key(fields: "videoId") {',
        "  _entities(representations: [_Any!]!): [_Entity]!\n",
        "  _service: _Service!\n",
        "union _Entity = TranscodeSummary | Video\n",
        # subscriptions are part of the subgraph: a router with subscriptions enabled runs them
        "  subscription: Subscription\n",
        "  transcodeSummaryUpdates(videoIds: [ID!]!): TranscodeSummary!\n",
    ):
        assert part in sdl, part
    # the stitching entry point is left to the catalog that owns Video (docs/federation.md)
    assert "videos(ids:" not in sdl
