"""The compiled projections (schema/projection.py, schema/executor.py) answer byte for byte what
graphql-core's own completion answers, errors included, for generated selection sets: aliases,
repeated fields, fragments and inline fragments, ``@skip``/``@include`` with variables,
``__typename``, and records with values graphql-core refuses (nulls in non-null fields, Ints past
32 bits, infinite floats)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from graphql import GraphQLObjectType
from graphql.execution.collect_fields import FieldDetailsList
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.types import ExecutionResult

from gateway.config.settings import Settings
from gateway.loading.loader import SummaryLoader
from gateway.schema import executor as executor_module
from gateway.schema.build import GatewaySchema, build_schema
from gateway.schema.context import Context
from gateway.schema.executor import ProjectingExecutor
from gateway.schema.projection import Projector
from gateway.vod.errors import VideoNotFound
from gateway.vod.models import JobStatus, SummaryStatus, TranscodeJobRecord, TranscodeSummaryRecord

EXAMPLES = settings(max_examples=200, deadline=None, derandomize=True, database=None)


class StandardExecutor(ProjectingExecutor):
    """The reference: every record becomes its Strawberry object, graphql-core completes it."""

    def _projector(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Projector | None:
        return None


SUMMARY_FIELDS = (
    "videoId",
    "transcodeStatus",
    "transcodeTemplateGroupId",
    "creationTime",
    "completeTime",
    "progress",
)
JOB_FIELDS = (
    "transcodeTemplateId", "transcodeJobStatus", "transcodeProgress", "creationTime", "completeTime",
    "errorCode", "errorMessage", "format", "definition", "width", "height", "bitrate", "duration", "fps",
    "fileSize", "watermarkIds", "encryptType",
)  # fmt: skip
VARIABLES = ("a", "b")  # Boolean! variables for @skip/@include


# ---- records, including values graphql-core refuses ---------------------------------------------

TIMES = st.none() | st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
)
INTS = st.none() | st.integers(0, 4000) | st.sampled_from([2**31 - 1, 2**31, 2**40, -1])
FLOATS = st.none() | st.floats(allow_nan=False, allow_infinity=False, width=32) | st.just(float("inf"))
TEXT = st.none() | st.text("abcXYZ-_ é", max_size=6)

JOBS = st.builds(
    TranscodeJobRecord,
    template_id=TEXT,
    status=st.sampled_from(JobStatus),
    progress=st.integers(0, 100) | st.just(2**31),  # Int!: too big fails (a record never holds null)
    creation_time=TIMES,
    complete_time=TIMES,
    error_code=TEXT,
    error_message=TEXT,
    format=TEXT,
    definition=TEXT,
    width=INTS,
    height=INTS,
    bitrate=FLOATS,
    duration=FLOATS,
    fps=FLOATS,
    file_size=st.none() | st.integers(0, 2**63 - 1),
    watermark_ids=st.lists(st.text("wm0123", min_size=1, max_size=4) | st.none(), max_size=2).map(tuple),
    encrypt_type=TEXT,
)


@st.composite
def summaries(draw: st.DrawFn, video_id: str) -> TranscodeSummaryRecord | Exception:
    if draw(st.integers(0, 9)) == 0:
        return VideoNotFound(video_id)
    return TranscodeSummaryRecord(
        video_id=draw(st.just(video_id) | st.just(None)) if draw(st.integers(0, 19)) == 0 else video_id,
        status=draw(st.sampled_from(SummaryStatus)),
        template_group_id=draw(TEXT),
        creation_time=draw(TIMES),
        complete_time=draw(TIMES),
        jobs=tuple(draw(st.lists(JOBS, max_size=3))),
    )


# ---- selection sets -----------------------------------------------------------------------------


@st.composite
def directives(draw: st.DrawFn, plain: bool = False) -> str:
    kind = draw(st.sampled_from(["", "", "", "@skip", "@include"]))
    if plain and kind:  # no directive reading a variable (what a prepared query allows)
        return f" {kind}(if: {'false' if kind == '@skip' else 'true'})"
    if not kind:
        return ""
    condition = draw(st.sampled_from([f"${v}" for v in VARIABLES] + ["true", "false"]))
    return f" {kind}(if: {condition})"


@st.composite
def selection(
    draw: st.DrawFn, type_name: str, fragments: dict[str, str], depth: int = 0, plain: bool = False
) -> str:
    fields = SUMMARY_FIELDS if type_name == "TranscodeSummary" else JOB_FIELDS
    parts = [draw(st.sampled_from(fields))]  # a selection set is never empty
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["field", "field", "field", "typename", "inline", "spread", "jobs"]))
        if kind == "jobs" and type_name != "TranscodeSummary":
            kind = "field"
        if kind == "field":
            name = draw(st.sampled_from(fields))
            alias = draw(st.sampled_from(["", "", f"{name}X: ", f"{name}Y: "]))
            parts.append(f"{alias}{name}{draw(directives(plain))}")
        elif kind == "typename":
            parts.append(f"{draw(st.sampled_from(['', 't: ']))}__typename{draw(directives(plain))}")
        elif kind == "jobs":
            alias = draw(st.sampled_from(["", "", "j: "]))
            parts.append(
                f"{alias}jobs{draw(directives(plain))} {{ {draw(selection('TranscodeJob', fragments, depth + 1, plain))} }}"
            )
        elif depth < 2:
            inner = draw(selection(type_name, fragments, depth + 1, plain))
            if kind == "inline":
                on = draw(st.sampled_from([f"on {type_name} ", ""]))
                parts.append(f"... {on}{draw(directives(plain))} {{ {inner} }}")
            else:
                name = f"F{len(fragments)}"
                fragments[name] = f"fragment {name} on {type_name} {{ {inner} }}"
                parts.append(f"...{name}{draw(directives(plain))}")
    return " ".join(parts)


@st.composite
def operations(draw: st.DrawFn, plain: bool = False) -> tuple[str, dict[str, Any], list[str]]:
    """``plain``: no directive reading a variable, and only summary roots (prepared queries')."""
    fragments: dict[str, str] = {}
    ids = [f"v{i}" for i in range(draw(st.integers(1, 4)))]
    roots = []
    for index in range(draw(st.integers(1, 2))):
        summary = draw(selection("TranscodeSummary", fragments, plain=plain))
        root = draw(st.sampled_from(["list", "one"] if plain else ["list", "one", "video"]))
        if root == "list":
            roots.append(f"r{index}: transcodeSummaries(videoIds: $ids) {{ {summary} }}")
        elif root == "one":
            roots.append(f"r{index}: transcodeSummary(videoId: $first) {{ {summary} }}")
        else:
            roots.append(f"r{index}: videos(ids: $ids) {{ id transcodeSummary {{ {summary} }} }}")
    body = " { " + " ".join(roots) + " } " + " ".join(fragments.values())
    declared = {"ids": "[ID!]!", "first": "ID!", **dict.fromkeys(VARIABLES, "Boolean!")}
    used = [name for name in declared if f"${name}" in body]  # an unused variable is invalid
    head = "query Q" + (f"({', '.join(f'${n}: {declared[n]}' for n in used)})" if used else "")
    variables: dict[str, Any] = {"ids": ids, "first": ids[0]}
    variables.update({v: draw(st.booleans()) for v in VARIABLES})
    return head + body, {n: variables[n] for n in used}, ids


# ---- the comparison ----------------------------------------------------------------------------


SETTINGS = dataclasses.replace(Settings(), max_aliases=10_000, max_tokens=100_000)


def schemas() -> tuple[GatewaySchema, GatewaySchema]:
    projecting = build_schema(SETTINGS)
    standard = build_schema(SETTINGS)
    standard.execution_context_class = StandardExecutor
    return projecting, standard


PROJECTING, STANDARD = schemas()


class Outcomes:
    """A summary source answering from a dict."""

    def __init__(self, outcomes: dict[str, Any]) -> None:
        self.outcomes = outcomes

    async def load_many(self, ids: Sequence[str], usable: Any = None) -> list[Any]:
        return [self.outcomes[i] for i in ids]


def context_for(outcomes: dict[str, Any]) -> Context:
    return Context(settings=SETTINGS, summaries=SummaryLoader(Outcomes(outcomes)))


def run(schema: GatewaySchema, document: str, variables: dict[str, Any], outcomes: dict[str, Any]) -> bytes:
    async def execute() -> ExecutionResult:
        context = context_for(outcomes)
        return await schema.execute(document, variable_values=variables, context_value=context)

    result = asyncio.run(execute())
    errors = [e.formatted for e in result.errors or ()]
    return orjson.dumps({"data": result.data, "errors": errors})


PREPARED_RUNS: list[bool] = []  # whether each generated operation was answered prepared


@EXAMPLES
@given(operation=operations() | operations(plain=True), data=st.data())
def test_a_prepared_query_answers_what_the_standard_path_answers(
    operation: tuple[str, dict[str, Any], list[str]], data: st.DataObject
) -> None:
    """schema/prepared.py: once the standard path has run a document (and so prepared it), its
    answer is the standard path's, or None (the standard path then runs)."""
    document, variables, ids = operation
    outcomes = {i: data.draw(summaries(i)) for i in ids}
    expected = run(PROJECTING, document, variables, outcomes)  # the standard path: it learns
    prepared_operations = PROJECTING.prepared
    assert prepared_operations is not None
    prepared = prepared_operations.get(document, None)
    answered = None
    if prepared is not None:
        plan = prepared

        async def answer() -> dict[str, Any] | None:
            return await prepared_operations.run(plan, context_for(outcomes), variables)

        answered = asyncio.run(answer())
    PREPARED_RUNS.append(answered is not None)
    if answered is not None:
        assert orjson.dumps({"data": answered, "errors": []}) == expected


def test_the_generated_operations_were_often_answered_prepared() -> None:
    """The comparison above compares something: many generated operations are answered prepared."""
    PREPARED_RUNS.clear()
    test_a_prepared_query_answers_what_the_standard_path_answers()
    print(f"{sum(PREPARED_RUNS)} of {len(PREPARED_RUNS)} answered prepared")
    assert len(PREPARED_RUNS) >= 100
    assert 0.25 <= sum(PREPARED_RUNS) / len(PREPARED_RUNS) < 1


@EXAMPLES
@given(operation=operations(), data=st.data())
def test_the_projection_answers_what_graphql_core_answers(
    operation: tuple[str, dict[str, Any], list[str]], data: st.DataObject
) -> None:
    document, variables, ids = operation
    outcomes = {i: data.draw(summaries(i)) for i in ids}
    expected = run(STANDARD, document, variables, outcomes)
    assert b"GRAPHQL_VALIDATION_FAILED" not in expected, expected  # the generator makes valid operations
    assert run(PROJECTING, document, variables, outcomes) == expected
    # the same document again (its projectors cached), with the @skip/@include variables flipped
    flipped = {k: not v if isinstance(v, bool) else v for k, v in variables.items()}
    assert run(PROJECTING, document, flipped, outcomes) == run(STANDARD, document, flipped, outcomes)
    assert run(PROJECTING, document, variables, outcomes) == expected


def plain(video_id: str) -> TranscodeSummaryRecord:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    job = TranscodeJobRecord(
        "t", JobStatus.TRANSCODE_SUCCESS, 100, now, now, None, None, "mp4", "HD",
        1280, 720, 1500.5, 10.0, 29.97, 2**40, ("w1",), None,
    )  # fmt: skip
    return TranscodeSummaryRecord(video_id, SummaryStatus.COMPLETE_ALL_SUCC, "g", now, now, (job, job))


@pytest.fixture
def fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The types of the objects completed on the standard path."""
    seen: list[str] = []
    as_object = executor_module.as_object

    def counted(type_: GraphQLObjectType, record: Any) -> Any:
        seen.append(type_.name)
        return as_object(type_, record)

    monkeypatch.setattr(executor_module, "as_object", counted)
    return seen


def test_plain_records_take_the_projection(fallbacks: list[str]) -> None:
    document = (
        "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { __typename id: videoId transcodeStatus "
        "creationTime jobs { fileSize fps transcodeJobStatus watermarkIds ...J } } } "
        "fragment J on TranscodeJob { width ... on TranscodeJob { bitrate } }"
    )
    outcomes = {"a": plain("a"), "b": plain("b")}
    answer = run(PROJECTING, document, {"ids": ["a", "b"]}, outcomes)
    assert fallbacks == []
    assert answer == run(STANDARD, document, {"ids": ["a", "b"]}, outcomes)
    assert b'"fileSize":1099511627776' in answer and b'"transcodeJobStatus":"TRANSCODE_SUCCESS"' in answer


def test_a_value_graphql_core_refuses_sends_only_its_object_to_the_standard_path(
    fallbacks: list[str],
) -> None:
    good, bad = plain("a"), plain("b")
    bad = dataclasses.replace(bad, jobs=(dataclasses.replace(bad.jobs[0], width=2**31), bad.jobs[1]))
    document = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId jobs { width } } }"
    outcomes = {"a": good, "b": bad}
    answer = run(PROJECTING, document, {"ids": ["a", "b"]}, outcomes)
    assert fallbacks == ["TranscodeSummary"]
    assert answer == run(STANDARD, document, {"ids": ["a", "b"]}, outcomes)
    body = orjson.loads(answer)
    assert body["data"]["transcodeSummaries"][1]["jobs"][0] == {"width": None}
    assert [e["path"] for e in body["errors"]] == [["transcodeSummaries", 1, "jobs", 0, "width"]]


def test_extensions_wrapping_resolvers_take_the_standard_path(fallbacks: list[str]) -> None:
    traced = build_schema(dataclasses.replace(Settings(), ftv1_tenants=("t",)))
    document = '{ transcodeSummary(videoId: "a") { videoId jobs { width } } }'
    outcomes = {"a": plain("a")}
    answer = run(traced, document, {}, outcomes)
    assert fallbacks == ["TranscodeSummary"]
    assert answer == run(STANDARD, document, {}, outcomes)
