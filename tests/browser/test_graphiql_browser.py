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
    assert graphiql_report["cspViolations"] == []
    assert graphiql_report["pageErrors"] == []
    assert graphiql_report["consoleErrors"] == []


def test_default_query_runs_and_shows_summary_and_not_found(
    graphiql_report: dict[str, Any],
) -> None:
    result = graphiql_report["resultText"]
    assert graphiql_report["transcodeStatuses"], f"no transcodeStatus in the result pane:\n{result}"
    assert "VIDEO_NOT_FOUND" in graphiql_report["errorCodes"], result


def test_every_browser_check_passed_and_screenshot_saved(graphiql_report: dict[str, Any]) -> None:
    failures = "\n".join([*graphiql_report["failures"], graphiql_report["stderr"]])
    assert graphiql_report["ok"], failures
    assert Path(graphiql_report["screenshot"]).is_file()
