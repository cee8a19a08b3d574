"""graphql-ws (js/graphql-ws.mjs) and graphql-sse in distinct connections mode (js/graphql-sse.mjs)
against the gateway: a query, and a subscription followed through real progress to completion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.clients.conftest import API_KEY, Target
from tests.clients.expect import assert_progress_to_the_end

pytestmark = pytest.mark.timeout(300)


def test_graphql_ws(target: Callable[..., Target], run_client: Callable[..., dict[str, Any]]) -> None:
    t = target(GATEWAY_API_KEYS=API_KEY)  # the key travels in connectionParams
    report = run_client("graphql-ws.mjs", t)
    assert report["query"]["data"]["transcodeSummaries"][0]["videoId"] == t.done
    assert report["query"]["errorCodes"] == ["VIDEO_NOT_FOUND"]
    assert report["subscription"]["ended"] == "complete"
    assert_progress_to_the_end(report["subscription"]["seen"], t.processing)


def test_graphql_sse(target: Callable[..., Target], run_client: Callable[..., dict[str, Any]]) -> None:
    t = target(GATEWAY_API_KEYS=API_KEY)  # the key travels as the Authorization header
    report = run_client("graphql-sse.mjs", t)
    assert report["query"]["results"] == 1
    assert report["query"]["data"]["transcodeSummaries"][0]["videoId"] == t.done
    assert report["query"]["errorCodes"] == ["VIDEO_NOT_FOUND"]
    assert report["subscription"]["ended"] == "complete"
    assert_progress_to_the_end(report["subscription"]["seen"], t.processing)
    missing = report["missingVideo"]
    assert missing == {
        "data": None,
        "errorCodes": ["VIDEO_NOT_FOUND"],
        "paths": [["transcodeSummaryUpdates"]],
    }
