"""Persisted queries without HTTP: the policy (APQ, the safelist), the LRU, and the start-up file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.config.persisted import sha256_hex
from gateway.config.settings import SettingsError, load_settings
from gateway.http.persisted import DocumentStore, PersistedQueries
from gateway.http.rejections import CodedRefusal

DOC = '{ transcodeSummary(videoId: "v1") { videoId } }'
OTHER = "{ __typename }"


def ext(document: str, version: int = 1) -> dict[str, object]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256_hex(document)}}


async def refusal(queries: PersistedQueries, query: str | None, extensions: object) -> CodedRefusal:
    with pytest.raises(CodedRefusal) as raised:
        await queries.document(query, extensions)  # type: ignore[arg-type]
    return raised.value


async def test_unknown_hash_is_not_found_then_hash_and_query_register() -> None:
    queries = PersistedQueries(load_settings({}))
    missed = await refusal(queries, None, ext(DOC))
    assert missed.status_code == 200
    assert missed.body() == {
        "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    }
    assert await queries.document(DOC, ext(DOC)) == DOC
    assert (await refusal(queries, None, ext(DOC))).code == "PERSISTED_QUERY_NOT_FOUND"  # not valid yet
    await queries.validated(DOC, ext(DOC))  # it parsed and validated (schema/guards.py)
    assert await queries.document(None, ext(DOC)) == DOC
    assert await queries.document(OTHER, None) == OTHER  # a plain request: untouched
    await queries.validated(OTHER, None)
    assert len(queries.store) == 1


async def test_a_hash_that_isnt_the_documents_is_bad_user_input_and_registers_nothing() -> None:
    queries = PersistedQueries(load_settings({}))
    wrong = await refusal(queries, OTHER, ext(DOC))
    assert wrong.status_code == 400 and wrong.code == "BAD_USER_INPUT"
    await queries.validated(OTHER, ext(DOC))  # never reached, and it checks the hash again anyway
    assert (await refusal(queries, None, ext(DOC))).code == "PERSISTED_QUERY_NOT_FOUND"
    assert len(queries.store) == 0


@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": "abc"},
        {"persistedQuery": {"version": 2, "sha256Hash": sha256_hex(DOC)}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not-hex"}},
    ],
)
async def test_a_malformed_persisted_query_is_a_400(extensions: dict[str, object]) -> None:
    refused = await refusal(PersistedQueries(load_settings({})), None, extensions)
    assert refused.status_code == 400 and refused.code == "BAD_REQUEST"


async def test_apq_off_says_not_supported_so_clients_send_documents() -> None:
    queries = PersistedQueries(load_settings({"GATEWAY_APQ": "false"}))
    refused = await refusal(queries, None, ext(DOC))
    assert refused.status_code == 200 and refused.code == "PERSISTED_QUERY_NOT_SUPPORTED"


async def test_the_store_is_a_bounded_lru() -> None:
    store = DocumentStore(max_entries=2)
    await store.put("a", "A")
    await store.put("b", "B")
    assert await store.get("a") == "A"  # now the most recent
    await store.put("c", "C")
    assert [await store.get(k) for k in "abc"] == ["A", None, "C"] and len(store) == 2


async def test_the_store_is_bounded_by_bytes_too_and_refuses_a_document_over_its_size() -> None:
    store = DocumentStore(max_entries=100, max_bytes=10, max_document_bytes=8)
    assert await store.put("a", "aaaa")
    assert await store.put("b", "bbbb")
    assert await store.get("a") == "aaaa"  # now the most recent
    assert await store.put("c", "cccc")  # 12 bytes: the least recent goes
    assert [await store.get(k) for k in "abc"] == ["aaaa", None, "cccc"]
    assert len(store) == 2 and store.bytes == 8
    assert await store.put("a", "aaaaaa")  # replaced, counted once: 10 bytes
    assert store.bytes == 10 and len(store) == 2
    assert not await store.put("big", "x" * 9)  # over max_document_bytes: kept nowhere
    assert await store.get("big") is None and store.bytes == 10
    assert await store.put("é", "éééé")  # 8 bytes of UTF-8, not 4 characters
    assert store.bytes == 8 and [await store.get(k) for k in ("a", "c")] == [None, None]


async def test_a_document_over_the_size_bound_runs_but_does_not_register() -> None:
    big = "{ __typename }" + " " * 40
    queries = PersistedQueries(load_settings({"GATEWAY_APQ_MAX_DOCUMENT_BYTES": "32"}))
    assert await queries.document(big, ext(big)) == big
    await queries.validated(big, ext(big))
    assert (await refusal(queries, None, ext(big))).code == "PERSISTED_QUERY_NOT_FOUND"


def write(path: Path, data: object) -> str:
    path.write_text(json.dumps(data))
    return str(path)


async def test_safelist_runs_only_the_files_documents_by_hash_or_text(tmp_path: Path) -> None:
    manifest = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": sha256_hex(DOC), "name": "One", "type": "query", "body": DOC}],
    }
    env = {
        "GATEWAY_PERSISTED_ONLY": "true",
        "GATEWAY_PERSISTED_QUERIES_FILE": write(tmp_path / "m.json", manifest),
    }
    queries = PersistedQueries(load_settings(env))
    assert await queries.document(None, ext(DOC)) == DOC
    assert await queries.document(DOC, None) == DOC
    for query, extensions in ((OTHER, None), (None, ext(OTHER)), (OTHER, ext(OTHER))):
        refused = await refusal(queries, query, extensions)
        assert refused.status_code == 400 and refused.code == "PERSISTED_QUERY_NOT_IN_LIST"
    assert len(queries.store) == 0  # nothing registers in safelist mode


async def test_without_the_safelist_the_files_documents_are_known_hashes(tmp_path: Path) -> None:
    env = {"GATEWAY_PERSISTED_QUERIES_FILE": write(tmp_path / "q.json", {sha256_hex(DOC): DOC})}
    queries = PersistedQueries(load_settings(env))
    assert await queries.document(None, ext(DOC)) == DOC
    assert await queries.document(OTHER, None) == OTHER


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("not json", "is not a persisted query file"),
        ("[]", "expected a JSON object"),
        (json.dumps({"0" * 64: DOC}), "is not the SHA-256 of its body"),
        (json.dumps({}), "holds no documents"),
    ],
)
def test_a_bad_file_stops_start_up_with_one_line(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(SettingsError, match=says):
        load_settings({"GATEWAY_PERSISTED_QUERIES_FILE": str(path)})


def test_the_safelist_needs_its_file() -> None:
    with pytest.raises(SettingsError, match="GATEWAY_PERSISTED_QUERIES_FILE"):
        load_settings({"GATEWAY_PERSISTED_ONLY": "true"})
