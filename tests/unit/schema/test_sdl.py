"""schema.graphql and schema.federation.graphql are exactly what the code exports."""

from __future__ import annotations

import pytest
from graphql import GraphQLEnumType, GraphQLObjectType, GraphQLScalarType, GraphQLSchema, build_schema

from gateway.cli import main
from tests.support.paths import ROOT


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


# The public contract of issue 2, as field -> type; these names are what clients code against.
CONTRACT = {
    "Query": {
        "transcodeSummary": "TranscodeSummary",
        "transcodeSummaries": "[TranscodeSummary]!",
        "videos": "[Video!]!",
    },
    "Video": {"id": "ID!", "transcodeSummary": "TranscodeSummary"},
    "TranscodeSummary": {
        "videoId": "ID!",
        "transcodeStatus": "TranscodeStatus!",
        "transcodeTemplateGroupId": "String",
        "creationTime": "DateTime",
        "completeTime": "DateTime",
        "jobs": "[TranscodeJob!]!",
        "progress": "Int!",
    },
    "TranscodeJob": {
        "transcodeTemplateId": "String",
        "transcodeJobStatus": "TranscodeJobStatus!",
        "transcodeProgress": "Int!",
        "creationTime": "DateTime",
        "completeTime": "DateTime",
        "errorCode": "String",
        "errorMessage": "String",
        "format": "String",
        "definition": "String",
        "width": "Int",
        "height": "Int",
        "bitrate": "Float",
        "duration": "Float",
        "fps": "Float",
        "fileSize": "Long",
        "watermarkIds": "[String!]!",
        "encryptType": "String",
    },
}
ARGUMENTS = {
    "transcodeSummary": {"videoId": "ID!"},
    "transcodeSummaries": {"videoIds": "[ID!]!"},
    "videos": {"ids": "[ID!]!"},
}
ENUMS = {
    "TranscodeStatus": [
        "PROCESSING",
        "PARTIAL",
        "COMPLETE_ALL_SUCC",
        "COMPLETE_ALL_FAIL",
        "COMPLETE_PARTIAL_SUCC",
        "UNKNOWN",
    ],
    "TranscodeJobStatus": ["TRANSCODING", "TRANSCODE_SUCCESS", "TRANSCODE_FAIL", "UNKNOWN"],
}


def plain_schema() -> GraphQLSchema:
    return build_schema((ROOT / "schema.graphql").read_text())


def test_plain_sdl_has_no_federation_parts() -> None:
    sdl = (ROOT / "schema.graphql").read_text()
    assert "@key" not in sdl and "_entities" not in sdl and "_Service" not in sdl
    for name in ("scalar DateTime", "scalar Long", "fileSize: Long"):  # the fields: test_public_contract
        assert name in sdl


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
        "  transcodeSummaryUpdates(",
        "  ): TranscodeSummary!\n",
    ):
        assert part in sdl, part
    # the stitching entry point is left to the catalog that owns Video (docs/federation.md)
    assert "videos(ids:" not in sdl


def test_plain_sdl_holds_the_public_contract() -> None:
    schema = plain_schema()
    for type_name, fields in CONTRACT.items():
        defined = schema.get_type(type_name)
        assert isinstance(defined, GraphQLObjectType), type_name
        got = {name: str(field.type) for name, field in defined.fields.items() if name in fields}
        assert got == fields, type_name
    query = schema.query_type
    assert query is not None
    for field_name, args in ARGUMENTS.items():
        assert {n: str(a.type) for n, a in query.fields[field_name].args.items()} == args
    for enum_name, values in ENUMS.items():
        enum = schema.get_type(enum_name)
        assert isinstance(enum, GraphQLEnumType) and list(enum.values) == values
    assert isinstance(schema.get_type("DateTime"), GraphQLScalarType)
    assert isinstance(schema.get_type("Long"), GraphQLScalarType)


def test_every_type_field_argument_and_value_is_described() -> None:
    schema = plain_schema()
    missing: list[str] = []
    for name, named in schema.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        if not named.description:
            missing.append(name)
        if isinstance(named, GraphQLObjectType):
            for field_name, field in named.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                if name in ("Query", "Subscription"):
                    missing += [
                        f"{name}.{field_name}({a})" for a, arg in field.args.items() if not arg.description
                    ]
        if isinstance(named, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in named.values.items() if not value.description]
    assert missing == []
