"""Apollo Client 4 against the gateway (js/apollo.mjs): queries with and without errorPolicy "all",
the GraphQL over HTTP media type, a subscription over HttpLink (multipart) followed to completion,
@defer, and PersistedQueryLink with GET for hashed queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.clients.conftest import API_KEY, Target
from tests.clients.expect import assert_progress_to_the_end

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def apollo(
    target: Callable[..., Target], run_client: Callable[..., dict[str, Any]]
) -> tuple[Target, dict[str, Any]]:
    started = target(GATEWAY_API_KEYS=API_KEY)
    return started, run_client("apollo.mjs", started)


def test_queries_errors_and_the_spec_media_type(apollo: tuple[Target, dict[str, Any]]) -> None:
    t, report = apollo
    all_ = report["queryWithErrorPolicyAll"]
    assert all_["data"]["transcodeSummaries"][0]["videoId"] == t.done
    assert all_["data"]["transcodeSummaries"][1] is None
    assert all_["errorCodes"] == ["VIDEO_NOT_FOUND"] and all_["errorPaths"] == [["transcodeSummaries", 1]]
    [request] = all_["requests"]
    assert request["accept"].startswith("application/graphql-response+json")
    assert request["contentType"] == "application/graphql-response+json; charset=utf-8"
    default = report["queryWithTheDefaultErrorPolicy"]
    assert default == {"threw": True, "name": "CombinedGraphQLErrors", "errorCodes": ["VIDEO_NOT_FOUND"]}
    spec = report["validationErrorInTheSpecMediaType"]
    assert spec["errorCodes"] == ["BAD_USER_INPUT"]  # a 400 in the spec's type, read by the client
    assert [r["status"] for r in spec["requests"]] == [200, 400]


def test_a_subscription_over_http_link_sees_progress_to_the_end(
    apollo: tuple[Target, dict[str, Any]],
) -> None:
    t, report = apollo
    sub = report["multipartSubscription"]
    assert sub["ended"] == "complete"
    assert_progress_to_the_end(sub["seen"], t.processing)
    [request] = sub["requests"]
    assert "subscriptionSpec=1.0" in request["accept"] and request["contentType"].startswith(
        "multipart/mixed"
    )


def test_defer_delivers_the_summaries_after_the_videos(apollo: tuple[Target, dict[str, Any]]) -> None:
    t, report = apollo
    deferred = report["deferredSummaries"]
    assert deferred["states"][-1] == "complete", deferred["states"]
    assert "streaming" in deferred["states"], deferred["states"]  # the videos first, then their summaries
    videos = deferred["data"]["videos"]
    assert [v["id"] for v in videos] == [t.done, t.missing]
    assert videos[0]["transcodeSummary"]["videoId"] == t.done and videos[1]["transcodeSummary"] is None
    assert deferred["errorCodes"] == ["VIDEO_NOT_FOUND"]
    assert "incrementalSpec=v0.2" in deferred["requests"][0]["accept"]


def test_persisted_query_link_falls_back_then_gets_by_hash(apollo: tuple[Target, dict[str, Any]]) -> None:
    t, report = apollo
    pq = report["persistedQueries"]
    summary = {
        "__typename": "TranscodeSummary",
        "videoId": t.done,
        "progress": 100,
    }  # the cache adds __typename
    assert pq["first"] == pq["second"] == {"transcodeSummaries": [summary]}
    sent = [(r["method"], r["hasQuery"], r["hasHash"], r["status"]) for r in pq["requests"]]
    assert sent == [
        ("GET", False, True, 200),  # hash only: PersistedQueryNotFound
        ("POST", True, True, 200),  # the link sends the document with its hash: registered
        ("GET", False, True, 200),  # known now
    ]
    assert pq["requests"][2]["cacheControl"] == "private, max-age=30"  # API keys on
