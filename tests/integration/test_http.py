"""The whole path over real HTTP on loopback: gateway (uvicorn) → emulator (uvicorn), via httpx."""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway.emulator.config import AccessKey
from gateway.emulator.model import ALL_FAILED, ALL_SUCCEEDED, OLDER_THAN_A_YEAR, PROCESSING
from tests.support.harness import Emulator, Gateway

FIELDS = "videoId transcodeStatus progress jobs { fileSize width fps encryptType watermarkIds format }"
STATUS = {
    "Processing": "PROCESSING",
    "Partial": "PARTIAL",
    "CompleteAllSucc": "COMPLETE_ALL_SUCC",
    "CompleteAllFail": "COMPLETE_ALL_FAIL",
    "CompletePartialSucc": "COMPLETE_PARTIAL_SUCC",
}


def test_summary_values_match_the_upstream_record(emulator: Emulator, gateway: Gateway) -> None:
    ids = emulator.state.catalogue.ids[:21]  # the fixed cases: big files, both size spellings, ...
    raw, _ = emulator.state.catalogue.summaries(ids)
    terminal = {r["VideoId"]: r for r in raw if r["TranscodeStatus"] not in ("Processing", "Partial")}
    body = gateway.query(
        f"query($ids: [ID!]!) {{ transcodeSummaries(videoIds: $ids) {{ {FIELDS} }} }}",
        {"ids": list(terminal)},
    )
    assert "errors" not in body
    for item in body["data"]["transcodeSummaries"]:
        record = terminal[item["videoId"]]
        assert item["transcodeStatus"] == STATUS[record["TranscodeStatus"]]
        assert item["progress"] == 100
        jobs = record["TranscodeJobInfoSummaryList"]
        assert len(item["jobs"]) == len(jobs)
        for got, want in zip(item["jobs"], jobs, strict=True):
            size = want.get("FileSize", want.get("Filesize"))
            assert got["fileSize"] == (None if size is None else int(size))
            assert got["width"] == (int(want["Width"]) if "Width" in want else None)
            assert got["fps"] == (float(want["Fps"]) if "Fps" in want else None)
            encryption = json.loads(want.get("Encryption", "{}"))
            assert got["encryptType"] == encryption.get("EncryptType")
            assert got["watermarkIds"] == want.get("WatermarkIdList", [])
    sizes = [j["fileSize"] for i in body["data"]["transcodeSummaries"] for j in i["jobs"] if j["fileSize"]]
    assert max(sizes) > 2**31  # the exact 64-bit value survives JSON


def test_not_found_is_null_at_its_path_and_the_rest_intact(emulator: Emulator, gateway: Gateway) -> None:
    done, failed = emulator.ids(ALL_SUCCEEDED)[0], emulator.ids(ALL_FAILED)[0]
    old = emulator.ids(OLDER_THAN_A_YEAR)[0]  # exists, but nothing in the past year: absent from the answer
    missing = emulator.missing_id
    body = gateway.query(
        "query($ids: [ID!]!, $one: ID!) { list: transcodeSummaries(videoIds: $ids) { videoId }"
        " single: transcodeSummary(videoId: $one) { videoId }"
        " videos(ids: $ids) { id transcodeSummary { videoId } } }",
        {"ids": [done, missing, failed, old], "one": missing},
    )
    data = body["data"]
    assert [i and i["videoId"] for i in data["list"]] == [done, None, failed, None]
    assert data["single"] is None
    assert [v["transcodeSummary"] and v["transcodeSummary"]["videoId"] for v in data["videos"]] == [
        done,
        None,
        failed,
        None,
    ]
    paths = {tuple(e["path"]): e["extensions"] for e in body["errors"]}
    assert paths == {
        ("list", 1): {"code": "VIDEO_NOT_FOUND", "videoId": missing},
        ("list", 3): {"code": "VIDEO_NOT_FOUND", "videoId": old},
        ("single",): {"code": "VIDEO_NOT_FOUND", "videoId": missing},
        ("videos", 1, "transcodeSummary"): {"code": "VIDEO_NOT_FOUND", "videoId": missing},
        ("videos", 3, "transcodeSummary"): {"code": "VIDEO_NOT_FOUND", "videoId": old},
    }
    assert emulator.accepted_calls == 1  # four distinct IDs, one upstream call


def test_25_aliases_make_exactly_3_upstream_calls(emulator: Emulator, gateway: Gateway) -> None:
    catalogue = emulator.state.catalogue
    ids = [i for i in catalogue.ids[100:200] if catalogue.status(i) != OLDER_THAN_A_YEAR][:25]
    query = (
        "{ "
        + " ".join(f'a{i}: transcodeSummary(videoId: "{v}") {{ videoId }}' for i, v in enumerate(ids))
        + " }"
    )
    body = gateway.query(query)
    assert "errors" not in body
    assert [body["data"][f"a{i}"]["videoId"] for i in range(25)] == ids
    assert emulator.accepted_calls == 3
    assert sorted(len(c) for c in emulator.state.stats.ids_per_call()) == [5, 10, 10]


def test_repeated_ids_return_the_same_summary(emulator: Emulator, gateway: Gateway) -> None:
    video = emulator.ids(PROCESSING)[0]
    body = gateway.query(
        "query($v: ID!) { a: transcodeSummary(videoId: $v) { videoId progress }"
        " b: transcodeSummary(videoId: $v) { videoId progress }"
        " c: transcodeSummaries(videoIds: [$v, $v]) { videoId progress } }",
        {"v": video},
    )
    data = body["data"]
    assert data["a"] == data["b"] == data["c"][0] == data["c"][1]
    assert emulator.accepted_calls == 1


def test_invalid_ids_are_rejected_before_any_upstream_call(emulator: Emulator, gateway: Gateway) -> None:
    bad = ["a,b", "a b", "", "x" * 65, "视频", "a/b"]
    body = gateway.query(
        "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId } }", {"ids": bad}
    )
    assert body["data"]["transcodeSummaries"] == [None] * len(bad)
    assert sorted(e["path"][1] for e in body["errors"]) == list(range(len(bad)))
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
    mixed = gateway.query(
        'query($ids: [ID!]!) { one: transcodeSummary(videoId: "a,b") { videoId }'
        " list: transcodeSummaries(videoIds: $ids) { videoId } videos(ids: $ids) { id transcodeSummary { videoId } } }",
        {"ids": ["a b"]},
    )
    assert {tuple(e["path"]): e["extensions"] for e in mixed["errors"]} == {
        ("one",): {"code": "BAD_USER_INPUT", "argument": "videoId"},
        ("list", 0): {"code": "BAD_USER_INPUT", "argument": "videoIds"},
        ("videos", 0, "transcodeSummary"): {"code": "BAD_USER_INPUT"},
    }
    too_many = gateway.query(
        "query($ids: [ID!]!) { videos(ids: $ids) { id } }", {"ids": [f"v{i}" for i in range(101)]}
    )
    assert too_many["data"] is None
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert emulator.accepted_calls == 0


def test_v1_signature_works_end_to_end(emulator: Emulator, make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(emulator, VOD_SIGNATURE="v1")
    video = emulator.ids(ALL_SUCCEEDED)[0]
    body = gateway.query(f'{{ transcodeSummary(videoId: "{video}") {{ videoId }} }}')
    assert body == {"data": {"transcodeSummary": {"videoId": video}}}


@pytest.mark.parametrize("signature", ["v3", "v1"])
def test_sts_token_is_sent_and_checked(
    signature: str, make_emulator: Callable[..., Emulator], make_gateway: Callable[..., Gateway]
) -> None:
    emulator = make_emulator(keys=(AccessKey("STSKEY", "sts-secret-1", "sts-token-1"),))
    video = emulator.ids(ALL_SUCCEEDED)[0]
    query = f'{{ transcodeSummary(videoId: "{video}") {{ videoId }} }}'
    creds = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "STSKEY", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "sts-secret-1"}
    good = make_gateway(
        emulator, VOD_SIGNATURE=signature, ALIBABA_CLOUD_SECURITY_TOKEN="sts-token-1", **creds
    )
    assert good.query(query) == {"data": {"transcodeSummary": {"videoId": video}}}
    wrong = make_gateway(
        emulator, VOD_SIGNATURE=signature, ALIBABA_CLOUD_SECURITY_TOKEN="sts-token-2", **creds
    )
    body = wrong.query(query)
    assert body["data"] == {"transcodeSummary": None}
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_ERROR"
    assert body["errors"][0]["extensions"]["upstreamCode"].startswith("InvalidSecurityToken")
    assert "sts-token" not in json.dumps(body) and "sts-secret" not in json.dumps(body)


def test_upstream_error_body_is_typed_and_secret_free(
    emulator: Emulator, make_gateway: Callable[..., Gateway]
) -> None:
    secret = "wrong-secret-value-1234"
    gateway = make_gateway(emulator, ALIBABA_CLOUD_ACCESS_KEY_SECRET=secret)
    body = gateway.query('{ a: transcodeSummary(videoId: "abc") { videoId } }')
    error = body["errors"][0]
    assert error["path"] == ["a"]
    assert error["extensions"]["code"] == "UPSTREAM_ERROR"
    assert error["extensions"]["upstreamCode"] == "SignatureDoesNotMatch"
    assert error["extensions"]["requestId"]
    assert secret not in json.dumps(body)


def test_unreachable_upstream_is_upstream_unavailable(make_gateway: Callable[..., Gateway]) -> None:
    class Nowhere:
        url = "http://127.0.0.1:9"  # discard port: connection refused

    gateway = make_gateway(Nowhere(), VOD_TIMEOUT="1")
    body = gateway.query('{ transcodeSummary(videoId: "abc") { videoId } }')
    assert body["data"] == {"transcodeSummary": None}
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"


def test_concurrent_operations_coalesce_across_requests(emulator: Emulator, gateway: Gateway) -> None:
    rng = random.Random(7)
    pool = emulator.state.catalogue.ids[:400]
    wanted = [rng.sample(pool, rng.randint(1, 3)) for _ in range(50)]

    async def run() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=30) as client:
            query = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId } }"
            responses = await asyncio.gather(
                *(
                    client.post(gateway.graphql_url, json={"query": query, "variables": {"ids": ids}})
                    for ids in wanted
                )
            )
        return [r.json() for r in responses]

    bodies = asyncio.run(run())
    for ids, body in zip(wanted, bodies, strict=True):
        got = [i and i["videoId"] for i in body["data"]["transcodeSummaries"]]
        expected = [i if emulator.state.catalogue.status(i) != OLDER_THAN_A_YEAR else None for i in ids]
        assert got == expected
    distinct = {i for ids in wanted for i in ids}
    sent = [r.video_ids for r in emulator.state.stats.records]
    assert Counter(i for ids in sent for i in ids) == dict.fromkeys(distinct, 1)  # each ID asked once
    assert all(len(ids) <= 10 for ids in sent) and emulator.accepted_calls == len(sent)
    assert emulator.accepted_calls <= math.ceil(len(distinct) / 10) + 3  # partial batches: arrival timing


def test_health_and_metrics(emulator: Emulator, gateway: Gateway) -> None:
    assert httpx.get(gateway.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(gateway.url + "/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["upstream"] == "ok"
    gateway.query(f'{{ transcodeSummary(videoId: "{emulator.missing_id}") {{ videoId }} }}')
    metrics = httpx.get(gateway.url + "/metrics").text
    assert 'vod_upstream_calls_total{outcome="ok"} 1.0' in metrics
    assert 'gateway_graphql_operations_total{outcome="partial"} 1.0' in metrics
