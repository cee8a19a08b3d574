"""urql (js/urql.mjs) against the gateway: GET queries, subscriptions over graphql-ws and over SSE
(fetchSubscriptions) followed to completion, and persistedExchange with GET for hashed queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.clients.conftest import Target
from tests.clients.expect import assert_progress_to_the_end

pytestmark = pytest.mark.timeout(300)


def test_get_queries_and_persisted_queries(
    target: Callable[..., Target], run_client: Callable[..., dict[str, Any]]
) -> None:
    t = target()
    report = run_client("urql.mjs", t, only="getQuery,persistedGetQuery")
    get = report["getQuery"]
    assert get["data"]["transcodeSummaries"][0]["videoId"] == t.done
    assert get["data"]["transcodeSummaries"][1] is None and get["errorCodes"] == ["VIDEO_NOT_FOUND"]
    [request] = get["requests"]
    assert request["method"] == "GET" and request["status"] == 200
    # urql lists text/event-stream in every Accept: a query still gets one JSON answer, cacheable
    assert "text/event-stream" in request["accept"] and request["contentType"].startswith("application/")
    assert request["cacheControl"] == "public, max-age=5"  # the not-found TTL: the shortest behind it

    pq = report["persistedGetQuery"]
    assert pq["first"] == pq["second"] == {"transcodeSummaries": [{"videoId": t.done, "progress": 100}]}
    sent = [(r["method"], r["hasQuery"], r["hasHash"]) for r in pq["requests"]]
    # hash only (PersistedQueryNotFound), then hash and document (urql keeps GET), then hash only
    assert sent == [("GET", False, True), ("GET", True, True), ("GET", False, True)], pq["requests"]


@pytest.mark.parametrize("case", ["subscriptionOverGraphqlWs", "subscriptionOverSse"])
def test_subscriptions_see_progress_to_the_end(
    case: str, target: Callable[..., Target], run_client: Callable[..., dict[str, Any]]
) -> None:
    t = target()
    result = run_client("urql.mjs", t, only=case)[case]
    assert result["ended"] == "complete"
    assert_progress_to_the_end(result["seen"], t.processing)


def test_stream_and_defer_over_multipart(
    target: Callable[..., Target], run_client: Callable[..., dict[str, Any]]
) -> None:
    t = target()
    results = run_client("urql.mjs", t, only="streamedAndDeferred")["streamedAndDeferred"]["results"]
    assert results[0]["hasNext"] is True  # the initial payload first: the videos, without summaries
    assert results[0]["data"]["videos"] == [{"id": t.done}, {"id": t.missing}]
    final = results[-1]
    assert final["hasNext"] is False
    assert final["data"] == {
        "transcodeSummaries": [{"videoId": t.done}, None],  # streamed items merged at their indexes
        "videos": [
            {"id": t.done, "transcodeSummary": {"videoId": t.done}},
            {"id": t.missing, "transcodeSummary": None},
        ],
    }
    assert final["errorCodes"] == ["VIDEO_NOT_FOUND", "VIDEO_NOT_FOUND"]
