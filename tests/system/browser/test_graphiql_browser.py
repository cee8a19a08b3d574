"""The GraphiQL explorer in a real headless Chromium, against a running gateway.

The browser work is in graphiql.e2e.mjs (playwright-core driving Debian's /usr/bin/chromium);
the fixtures in conftest.py start the gateway, run the script and hand over its report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def test_explorer_loads_nothing_from_other_origins(graphiql_report: dict[str, Any]) -> None:
    assert graphiql_report["foreignRequests"] == []
    assert graphiql_report["sameOriginRequests"] > 0


def test_explorer_works_under_its_content_security_policy(graphiql_report: dict[str, Any]) -> None:
    assert "script-src 'self'" in graphiql_report["csp"]
    host = graphiql_report["url"].split("//", 1)[1].split("/", 1)[0]
    assert graphiql_report["connectSrc"] == ["'self'", f"ws://{host}"]
    assert graphiql_report["cspViolations"] == []
    assert graphiql_report["pageErrors"] == []
    assert graphiql_report["consoleErrors"] == []


def test_first_open_has_the_examples_and_the_headers_editor(graphiql_report: dict[str, Any]) -> None:
    assert graphiql_report["tabs"] == ["Summaries", "Progress"]
    assert graphiql_report["checks"]["headers editor shown"]
    assert graphiql_report["checks"]["docs explorer lists Query"]
    assert graphiql_report["checks"]["history has the run"]


def test_default_query_runs_and_shows_summary_and_not_found(
    graphiql_report: dict[str, Any],
) -> None:
    result = graphiql_report["resultText"]
    assert graphiql_report["transcodeStatuses"], f"no transcodeStatus in the result pane:\n{result}"
    assert "VIDEO_NOT_FOUND" in graphiql_report["errorCodes"], result


def test_subscription_opens_a_websocket_to_the_gateway_itself(graphiql_report: dict[str, Any]) -> None:
    sub = graphiql_report["subscription"]
    host = graphiql_report["url"].split("//", 1)[1].split("/", 1)[0]
    assert sub["webSocketUrl"] == f"ws://{host}/graphql"
    assert sub["connectionInit"] == {}  # the Headers editor is empty
    assert graphiql_report["foreignRequests"] == [] and graphiql_report["cspViolations"] == []


def test_subscription_runs_in_the_explorer_until_it_completes(graphiql_report: dict[str, Any]) -> None:
    sub = graphiql_report["subscription"]
    assert sub["ok"], "\n".join(sub["failures"])
    assert sub["events"][0][0] in ("PROCESSING", "PARTIAL"), sub["firstEventText"]
    assert sub["events"][-1][0].startswith("COMPLETE_"), sub["finalText"]
    assert sub["ended"] == "completed", sub["finalText"]
    assert Path(graphiql_report["subscriptionScreenshot"]).is_file()


def test_every_browser_check_passed_and_screenshot_saved(graphiql_report: dict[str, Any]) -> None:
    # the subscription's own checks are asserted by the subscription test
    general = [f for f in graphiql_report["failures"] if not f.startswith("subscription: ")]
    assert not general, "\n".join([*general, graphiql_report["stderr"]])
    assert Path(graphiql_report["screenshot"]).is_file()


def test_with_api_keys_the_page_loads_and_queries_take_the_key_from_the_headers_editor(
    graphiql_api_key_report: dict[str, Any],
) -> None:
    report = graphiql_api_key_report
    general = [f for f in report["failures"] if not f.startswith("subscription: ")]
    assert not general, "\n".join([*general, report["stderr"]])
    assert "UNAUTHENTICATED" in report["unauthenticatedText"]
    assert report["transcodeStatuses"] and "VIDEO_NOT_FOUND" in report["errorCodes"]
    assert report["foreignRequests"] == [] and report["cspViolations"] == []


def test_with_api_keys_a_subscription_is_refused_at_once_then_sends_the_key_in_connection_init(
    graphiql_api_key_report: dict[str, Any],
) -> None:
    sub = graphiql_api_key_report["subscription"]
    assert "4403" in sub["refusedText"] and "connection_init" in sub["refusedText"], sub["refusedText"]
    assert sub["refusedAfterMs"] < 10_000, "graphql-ws retried a refused key instead of reporting it"
    assert sub["connectionInit"]["Authorization"].startswith("Bearer e2e-")


def test_with_api_keys_a_subscription_streams_until_stopped(
    graphiql_api_key_report: dict[str, Any],
) -> None:
    sub = graphiql_api_key_report["subscription"]
    assert sub["ok"], "\n".join(sub["failures"])
    assert sub["events"][0][0] in ("PROCESSING", "PARTIAL"), sub["firstEventText"]
    assert sub["ended"] == "stopped" and "complete" in sub["framesSent"]
