"""Streamed items' paths in the 2022 format too (urql): the pending list's path and the index of the
entry's first item, counted from the items the initial payload already held."""

from __future__ import annotations

from typing import Any

from gateway.http.streams import ItemPaths


class Request:  # any object a weak reference can point to
    pass


def test_each_entry_names_the_index_of_its_first_item() -> None:
    paths, request = ItemPaths(), Request()
    initial: dict[str, Any] = {
        "data": {"transcodeSummaries": [{"videoId": "a"}, {"videoId": "b"}]},  # initialCount: 2
        "pending": [{"id": "0", "path": ["transcodeSummaries"]}],
    }
    paths.apply(request, initial)
    later = [
        {"incremental": [{"id": "0", "items": [{"videoId": "c"}], "path": ["transcodeSummaries"]}]},
        {"incremental": [{"id": "0", "items": [None, {"videoId": "e"}], "path": ["transcodeSummaries"]}]},
    ]
    for payload in later:
        paths.apply(request, payload)
    assert [p["incremental"][0]["path"] for p in later] == [
        ["transcodeSummaries", 2],
        ["transcodeSummaries", 3],
    ]


def test_deferred_entries_keep_their_path() -> None:
    paths, request = ItemPaths(), Request()
    payload: dict[str, Any] = {"incremental": [{"id": "1", "data": {"x": 1}, "path": ["videos", 0]}]}
    paths.apply(request, payload)
    assert payload["incremental"][0]["path"] == ["videos", 0]
