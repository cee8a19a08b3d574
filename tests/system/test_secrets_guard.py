"""The secrets guard itself: a test that leaks a canary anywhere it watches must not pass."""

from __future__ import annotations

import pytest

from tests.support.paths import ROOT

LEAKY = """
import logging

import httpx

from tests.support.harness import CANARY


def test_logs_it():
    logging.getLogger("gateway.anything").debug("signing with %s", CANARY.secret)


def test_answers_it():
    echo = httpx.MockTransport(lambda request: httpx.Response(200, text=CANARY.security_token))
    httpx.Client(transport=echo).get("http://vod.test/")


def test_prints_it():
    print("token", CANARY.security_token)


def test_keeps_it():
    logging.getLogger("gateway.anything").warning("a line without secrets")
"""


def test_every_leak_fails_its_test(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("COLUMNS", "500")  # the summary lines whole
    pytester.makepyfile(test_leaky=LEAKY)
    # --show-capture=no: the inner run's output must not carry the canaries into this test's output
    args = ("-p", "tests.secrets_guard", "-p", "no:cacheprovider", "-rE", "--tb=line", "--show-capture=no")
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=4, errors=3)  # each leaking test errors at teardown
    result.stdout.fnmatch_lines(["ERROR*test_logs_it*a log record of 'gateway.anything'*"])
    result.stdout.fnmatch_lines(["ERROR*test_answers_it*an HTTP response from GET /*"])
    result.stdout.fnmatch_lines(["ERROR*test_prints_it*Captured stdout call*"])
