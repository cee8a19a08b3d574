"""The gateway as a Federation 2 subgraph: ``_service { sdl }``, batched ``_entities``, and the
``videos(ids:)`` entry point that schema stitching merges ``Video`` through."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

from websockets.asyncio.client import connect

from gateway.emulator.model import ALL_FAILED, ALL_SUCCEEDED, PARTLY_SUCCEEDED
from tests.support.harness import Emulator, Gateway
from tests.support.paths import ROOT

TERMINAL = (ALL_SUCCEEDED, ALL_FAILED, PARTLY_SUCCEEDED)
VIDEO_ENTITIES = (
    "query($r: [_Any!]!) { _entities(representations: $r) "
    "{ ... on Video { id transcodeSummary { videoId transcodeStatus progress } } } }"
)
SUMMARY_ENTITIES = (
    "query($r: [_Any!]!) { _entities(representations: $r) "
    "{ ... on TranscodeSummary { videoId transcodeStatus jobs { format definition fileSize } } } }"
)


def terminal_ids(emulator: Emulator, n: int) -> list[str]:
    catalogue = emulator.state.catalogue
    ids = [i for i in catalogue.ids if catalogue.status(i) in TERMINAL][:n]
    assert len(ids) == n, f"catalogue has fewer than {n} terminal videos"
    return ids


def error_paths(body: dict[str, object]) -> dict[tuple[object, ...], object]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return {tuple(e["path"]): e["extensions"] for e in errors}


def test_service_sdl_is_the_committed_subgraph_schema_even_with_introspection_off(
    emulator: Emulator, make_gateway: Callable[..., Gateway]
) -> None:
    gateway = make_gateway(emulator, GATEWAY_INTROSPECTION="false")
    body = gateway.query("{ _service { sdl } }")
    assert "errors" not in body
    assert body["data"]["_service"]["sdl"] + "\n" == (ROOT / "schema.federation.graphql").read_text()
    assert gateway.query("{ __schema { queryType { name } } }")["errors"]  # introspection is off


def test_300_video_entities_cost_30_calls_and_missing_ones_fail_at_their_summary(
    emulator: Emulator, make_gateway: Callable[..., Gateway]
) -> None:
    gateway = make_gateway(emulator, GATEWAY_MAX_IDS="300")
    ids = terminal_ids(emulator, 298)
    missing = [emulator.missing_id, "made-up-video-0000"]
    ids[7:7] = [missing[0]]
    ids[250:250] = [missing[1]]
    body = gateway.query(VIDEO_ENTITIES, {"r": [{"__typename": "Video", "id": i} for i in ids]})

    entities = body["data"]["_entities"]
    assert [e["id"] for e in entities] == ids  # every Video entity resolves: it is just its key
    assert [e["transcodeSummary"] and e["transcodeSummary"]["videoId"] for e in entities] == [
        None if i in missing else i for i in ids
    ]
    assert error_paths(body) == {
        ("_entities", 7, "transcodeSummary"): {"code": "VIDEO_NOT_FOUND", "videoId": missing[0]},
        ("_entities", 250, "transcodeSummary"): {"code": "VIDEO_NOT_FOUND", "videoId": missing[1]},
    }
    assert emulator.accepted_calls <= 30
    assert emulator.accepted_calls == math.ceil(300 / 10)
    assert sorted(i for call in emulator.state.stats.ids_per_call() for i in call) == sorted(ids)


def test_default_id_budget_rejects_1501_representations_before_any_call(
    emulator: Emulator, gateway: Gateway
) -> None:
    # the default budget is what the account serves within VOD_MAX_WAIT: 15 calls/s x 10 IDs x 10 s
    ids = [f"video-{n:05d}" for n in range(1501)]
    body = gateway.query(VIDEO_ENTITIES, {"r": [{"__typename": "Video", "id": i} for i in ids]})
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": 1500}
    assert "1501 video IDs" in error["message"]
    assert emulator.state.stats.calls == 0


def test_summary_entities_are_batched_and_a_missing_one_is_null_at_its_index(
    emulator: Emulator, gateway: Gateway
) -> None:
    ids = terminal_ids(emulator, 19)
    ids.insert(4, emulator.missing_id)
    body = gateway.query(
        SUMMARY_ENTITIES, {"r": [{"__typename": "TranscodeSummary", "videoId": i} for i in ids]}
    )

    entities = body["data"]["_entities"]
    assert [e and e["videoId"] for e in entities] == [None if i == emulator.missing_id else i for i in ids]
    assert error_paths(body) == {
        ("_entities", 4): {"code": "VIDEO_NOT_FOUND", "videoId": emulator.missing_id}
    }
    assert emulator.accepted_calls == 2  # 20 representations, 10 IDs per call

    # the same summaries through the root field: identical values
    direct = gateway.query(
        "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) "
        "{ videoId transcodeStatus jobs { format definition fileSize } } }",
        {"ids": ids},
    )
    assert direct["data"]["transcodeSummaries"] == entities


def test_mixed_entities_and_a_root_field_share_one_batch(emulator: Emulator, gateway: Gateway) -> None:
    a, b, c = terminal_ids(emulator, 3)
    body = gateway.query(
        "query($r: [_Any!]!, $ids: [ID!]!) { "
        "_entities(representations: $r) { ... on Video { id transcodeSummary { videoId } } "
        "... on TranscodeSummary { videoId progress } } "
        "videos(ids: $ids) { id transcodeSummary { videoId } } }",
        {
            "r": [{"__typename": "Video", "id": a}, {"__typename": "TranscodeSummary", "videoId": b}],
            "ids": [c, a],
        },
    )
    assert "errors" not in body
    assert body["data"]["_entities"] == [
        {"id": a, "transcodeSummary": {"videoId": a}},
        {"videoId": b, "progress": 100},
    ]
    assert emulator.accepted_calls == 1
    assert sorted(emulator.state.stats.ids_per_call()[0]) == sorted([a, b, c])


def test_videos_returns_one_video_per_id_in_order(emulator: Emulator, gateway: Gateway) -> None:
    ids = terminal_ids(emulator, 12)
    ids[3:3] = [emulator.missing_id]
    ids.append(ids[0])  # a repeated ID keeps its place and is fetched once
    body = gateway.query(
        "query($ids: [ID!]!) { videos(ids: $ids) { id transcodeSummary { videoId } } }", {"ids": ids}
    )

    videos = body["data"]["videos"]
    assert [v["id"] for v in videos] == ids
    assert [v["transcodeSummary"] and v["transcodeSummary"]["videoId"] for v in videos] == [
        None if i == emulator.missing_id else i for i in ids
    ]
    assert error_paths(body) == {
        ("videos", 3, "transcodeSummary"): {"code": "VIDEO_NOT_FOUND", "videoId": emulator.missing_id}
    }
    assert emulator.accepted_calls == 2  # 13 distinct IDs


def test_a_malformed_representation_is_null_at_its_index_and_the_rest_of_the_fetch_resolves(
    emulator: Emulator, gateway: Gateway
) -> None:
    ids = terminal_ids(emulator, 6)
    bad: list[object] = [
        {"__typename": "Nope", "id": ids[0]},  # a type this subgraph doesn't have
        {"id": ids[0]},  # no __typename
        "not an object",
        {"__typename": "TranscodeJob", "id": ids[0]},  # a type, but not an entity
        {"__typename": "Video"},  # no key
        {"__typename": "TranscodeSummary", "videoId": None},
        {"__typename": "Video", "id": True},
    ]
    good: list[object] = [
        {"__typename": "Video", "id": ids[0]},
        {"__typename": "TranscodeSummary", "videoId": ids[1]},
        # fields beyond the key (a router sending more than @key asks for) are ignored
        {"__typename": "Video", "id": ids[2], "title": "Video #3", "owner": {"id": 1}},
        {"__typename": "TranscodeSummary", "videoId": ids[3], "progress": 1},
        {"__typename": "Video", "id": ids[4]},
        {"__typename": "TranscodeSummary", "videoId": ids[5]},
    ]
    representations = [r for pair in zip(bad, good, strict=False) for r in pair] + bad[len(good) :]
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename "
        "... on Video { id transcodeSummary { videoId } } ... on TranscodeSummary { videoId } } }"
    )
    body = gateway.query(query, {"r": representations})

    entities = body["data"]["_entities"]
    assert len(entities) == len(representations)
    bad_at = [i for i, r in enumerate(representations) if r in bad]
    assert [i for i, e in enumerate(entities) if e is None] == bad_at
    resolved = [e for e in entities if e is not None]
    assert resolved == [
        {"__typename": "Video", "id": ids[0], "transcodeSummary": {"videoId": ids[0]}},
        {"__typename": "TranscodeSummary", "videoId": ids[1]},
        {"__typename": "Video", "id": ids[2], "transcodeSummary": {"videoId": ids[2]}},
        {"__typename": "TranscodeSummary", "videoId": ids[3]},
        {"__typename": "Video", "id": ids[4], "transcodeSummary": {"videoId": ids[4]}},
        {"__typename": "TranscodeSummary", "videoId": ids[5]},
    ]
    # one coded error per bad representation, at its index, naming it
    assert sorted(error_paths(body)) == [("_entities", i) for i in bad_at]
    for error in body["errors"]:
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "representations"}
        assert error["message"].startswith(f"representations[{error['path'][1]}] ")
    assert emulator.accepted_calls == 1  # the 6 valid IDs, in one call


async def test_a_router_in_subscription_passthrough_mode_is_let_in_by_its_propagated_header(
    emulator: Emulator, make_gateway: Callable[..., Gateway]
) -> None:
    """What Apollo Router does in passthrough mode (subprotocol graphql_ws): the subgraph's propagated
    headers on the WebSocket upgrade, and {"token": <Authorization>} as the connection_init payload.
    The header is what vod-gateway checks; the payload is ignored. (A stand-in: no router is run.)"""
    gateway = make_gateway(emulator, GATEWAY_API_KEYS="router-key")
    done = terminal_ids(emulator, 1)[0]
    async with connect(
        gateway.graphql_url.replace("http://", "ws://"),
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers={"authorization": "Bearer router-key"},
        compression=None,
        proxy=None,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"token": "Bearer router-key"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        query = "subscription($ids: [ID!]!) { transcodeSummaryUpdates(videoIds: $ids) { __typename videoId progress } }"
        await ws.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"ids": [done]}}}
            )
        )
        messages = [json.loads(await ws.recv()) for _ in range(2)]
    assert messages == [
        {"id": "1", "type": "next", "payload": {"data": {"transcodeSummaryUpdates": {
            "__typename": "TranscodeSummary", "videoId": done, "progress": 100}}}},
        {"id": "1", "type": "complete"},
    ]  # fmt: skip
