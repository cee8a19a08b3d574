"""Apollo Server's CSRF rule, case by case (``gateway/http/csrf.py``), and exact content types."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from gateway.http.csrf import essence, is_json, looks_forged


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", "application/json"),
        ("Application/JSON; charset=utf-8", "application/json"),
        ("  text/plain ;charset=x", "text/plain"),
        ("application/jsonx", "application/jsonx"),
        ("text/plain/x", None),
        ("application", None),
        ("/json", None),
        ("", None),
        ("app lication/json", None),
    ],
)
def test_the_essence_of_a_mime_type(content_type: str, expected: str | None) -> None:
    assert essence(content_type) == expected


def test_only_application_json_is_json() -> None:
    assert is_json("application/json") and is_json("application/json; charset=utf-8")
    assert not is_json("application/jsonx") and not is_json("text/json") and not is_json("")


@pytest.mark.parametrize(
    ("headers", "forged"),
    [
        ({}, True),  # a GET with nothing
        ({"content-type": "text/plain"}, True),
        ({"content-type": "application/x-www-form-urlencoded"}, True),
        ({"content-type": "multipart/form-data; boundary=x"}, True),
        ({"content-type": "TEXT/PLAIN; charset=utf-8"}, True),
        ({"content-type": "application/json"}, False),
        ({"content-type": "application/jsonx"}, False),  # not safelisted: a browser preflights it
        ({"content-type": "not a mime type"}, False),  # unparseable: a browser preflights it too
        ({"apollo-require-preflight": "true"}, False),
        ({"x-apollo-operation-name": "Q", "content-type": "text/plain"}, False),
        ({"apollo-require-preflight": ""}, True),  # must be non-empty
    ],
)
def test_apollos_rule(headers: dict[str, str], forged: bool) -> None:
    assert looks_forged(Headers(headers)) is forged
