"""What a subscriber sees of a summary: the fields its operation selects.

A subscription sends a summary again only when something it selected changed. Without this, a
page that selects ``{ videoId progress }`` would get an event each time any job's progress moved,
though the overall ``progress`` it shows had not. Directives (``@include``/``@skip``) are not
evaluated: such fields count as selected, which can only send an event too many, never one too few.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from strawberry.types.nodes import SelectedField, Selection

from gateway.loading.cache import Outcome
from gateway.loading.poller import View, is_final
from gateway.schema.types import TranscodeSummary
from gateway.vod.models import TranscodeSummaryRecord

Spec = dict[str, "Spec | None"]
"""Selected field names (GraphQL spelling) -> the sub-selection, or None for a leaf."""
FrozenSpec = tuple[tuple[str, "FrozenSpec | None"], ...]
"""A Spec as sorted tuples, hashable."""

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def selected(selections: Iterable[Selection]) -> Spec:
    """The field names of a selection set, fragments flattened and same-named fields merged."""
    spec: Spec = {}
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name.startswith("__"):
                continue  # __typename is the same for every event
            sub = selected(selection.selections) if selection.selections else None
            spec[selection.name] = _merge(spec.get(selection.name), sub)
        else:  # a fragment spread or inline fragment: its fields belong to this level
            for name, sub in selected(selection.selections).items():
                spec[name] = _merge(spec.get(name), sub)
    return spec


def _merge(a: Spec | None, b: Spec | None) -> Spec | None:
    if a is None or b is None:
        return a if b is None else b
    merged = dict(a)
    for name, sub in b.items():
        merged[name] = _merge(merged.get(name), sub)
    return merged


def project(value: Any, spec: FrozenSpec | None) -> Any:
    """The values of ``value`` that ``spec`` selects, as comparable tuples."""
    if spec is None:
        return value
    if isinstance(value, list):
        return tuple(project(item, spec) for item in value)
    if value is None:
        return None
    return tuple(project(getattr(value, _attribute(name)), sub) for name, sub in spec)


@functools.cache
def _attribute(name: str) -> str:
    """``transcodeStatus`` -> ``transcode_status``: Strawberry's names, back to Python's."""
    return _CAMEL.sub("_", name).lower()


def view_of(selections: Iterable[Selection]) -> View:
    """A key that changes exactly when a subscriber would see a different event.

    Finality is part of it: the event that ends a stream is always sent, even if the selected
    fields look the same as the last event's. Operations selecting the same fields get the same
    function, so the poller computes one view per answer for all their subscribers.
    """
    return _view(_frozen(selected(selections)))


def _frozen(spec: Spec) -> FrozenSpec:
    return tuple((name, None if sub is None else _frozen(sub)) for name, sub in sorted(spec.items()))


@functools.lru_cache(maxsize=256)
def _view(spec: FrozenSpec) -> View:
    def view(outcome: Outcome) -> object:
        if not isinstance(outcome, TranscodeSummaryRecord):
            return ("error", type(outcome).__name__, str(outcome))
        return (is_final(outcome), project(TranscodeSummary.from_record(outcome), spec))

    return view
