"""Leaf values as graphql-core completes them, for the compiled projections (``projection.py``):
the same coercion, and an exception (:class:`NotProjectable`) wherever graphql-core would report an
error, so that the object goes to the standard path, which reports it."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLOutputType,
    GraphQLScalarType,
    Undefined,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
)

Complete = Callable[[Any], Any]


class NotProjectable(Exception):
    """The value isn't one a projector completes as graphql-core would: use the standard path."""


def leaf_completer(type_: GraphQLOutputType) -> Complete:
    """graphql-core's ``complete_value`` for a leaf type (or lists of them), raising
    :class:`NotProjectable` wherever graphql-core would report an error."""
    if is_non_null_type(type_):
        inner = leaf_completer(type_.of_type)

        def non_null(value: Any) -> Any:
            completed = inner(value)
            if completed is None:
                raise NotProjectable
            return completed

        return non_null
    if is_list_type(type_):
        item = leaf_completer(type_.of_type)

        def items(value: Any) -> Any:
            if value is None or value is Undefined:
                return None
            if not isinstance(value, list | tuple):
                raise NotProjectable
            return [item(v) for v in value]

        return items
    if not is_leaf_type(type_):
        raise TypeError(f"{type_} is not a leaf type")
    coerce = type_.coerce_output_value

    def leaf(value: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if isinstance(value, Exception):
            raise NotProjectable
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise NotProjectable
        return coerced

    return leaf


class Memo(dict[Any, Any]):
    """Each value's completed output, computed once: enum values (a status has a handful), and the
    values of scalars whose serialiser depends on the value alone (:data:`PURE_SCALARS`)."""

    def __init__(self, complete: Complete, limit: int = 64) -> None:
        super().__init__()
        self._complete = complete
        self._limit = limit

    def __missing__(self, value: Any) -> Any:
        completed = self._complete(value)
        if len(self) >= self._limit:
            self.clear()
        self[value] = completed
        return completed


PURE_SCALARS = frozenset({"DateTime"})
"""Custom scalars whose output depends on the value alone (equal values, equal output)."""
_scalar_memos: weakref.WeakKeyDictionary[GraphQLScalarType, Memo] = weakref.WeakKeyDictionary()


def scalar_memo(scalar: GraphQLScalarType) -> Memo:
    """One memo per scalar type, shared by every projector (a summary's times recur in every answer)."""
    memo = _scalar_memos.get(scalar)
    if memo is None:
        memo = _scalar_memos[scalar] = Memo(leaf_completer(scalar), limit=16_384)
    return memo
