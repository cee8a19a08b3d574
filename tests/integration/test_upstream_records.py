"""Property test over HTTP: the gateway, served in a thread, answers any summary-shaped upstream page with data
or typed errors, and logs no ERROR."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings

from gateway.app import create_app
from tests.support.harness import LogRecords, gateway_settings
from tests.support.server import ThreadedServer
from tests.unit.test_properties import FAST, PAGES, VIDEO_IDS, dumps

OPERATION = (
    'query { list: transcodeSummaries(videoIds: ["v1", "v2"]) { videoId transcodeStatus progress creationTime'
    " completeTime transcodeTemplateGroupId jobs { transcodeTemplateId transcodeJobStatus transcodeProgress"
    " creationTime completeTime errorCode errorMessage format definition width height bitrate duration fps"
    ' fileSize watermarkIds encryptType } } one: videos(ids: ["v2"]) { transcodeSummary { videoId } } }'
)


TYPED = {"VIDEO_NOT_FOUND", "UPSTREAM_ERROR", "UPSTREAM_UNAVAILABLE"}


def test_gateway_answers_any_upstream_record(gateway_logs: LogRecords) -> None:
    current: dict[str, bytes] = {}

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=current["body"], headers={"content-type": "application/json"})

    no_cache = {
        "GATEWAY_CACHE_TTL_ACTIVE": "0",
        "GATEWAY_CACHE_TTL_TERMINAL": "0",
        "GATEWAY_CACHE_TTL_NOT_FOUND": "0",
        "GATEWAY_RESPONSE_CACHE_TTL": "0",
        "VOD_QPS": "1000",  # calls are paced at the account's rate: this upstream has none
    }
    app = create_app(gateway_settings("http://vod.test", **no_cache), transport=httpx.MockTransport(upstream))
    with ThreadedServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:

        @settings(FAST, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
        @given(PAGES)
        def one(page: dict[str, Any]) -> None:
            current["body"] = dumps(page)
            response = http.post("/graphql", json={"query": OPERATION})
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["data"] is not None
            items = body["data"]["list"]
            assert len(items) == 2
            paths = {tuple(e["path"]) for e in body.get("errors", [])}
            for index, item in enumerate(items):
                assert (item is None) == (("list", index) in paths)
                assert item is None or item["videoId"] == VIDEO_IDS[index]
            for error in body.get("errors", []):
                assert error["extensions"]["code"] in TYPED, error

        one()
    assert gateway_logs.errors() == []
