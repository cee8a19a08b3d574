"""Cached outcomes as compact JSON: a summary record or a not-found answer, never an error.

A record travels as a positional array of its dataclass fields, in the order the record declares
them (a job record nested as its own array), so the layout follows ``gateway.vod.models`` and is
never written out by hand. Each field is converted by its type: datetimes as ISO 8601 strings,
enums as their values, tuples as arrays. That keeps an entry small (about 700 bytes for a summary
of three jobs). ``FORMAT`` is part of every cache key: when the records' fields change, bump it,
and old entries only turn into misses. :func:`decode` returns ``None`` for anything it can't read.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

import orjson

from gateway.loading.cache import Outcome
from gateway.vod.errors import VideoNotFound
from gateway.vod.models import TranscodeSummaryRecord

FORMAT = "v1"

Convert = Callable[[Any], Any]
R = TypeVar("R")


def _checked(kind: type, optional: bool) -> Convert:
    kinds = (kind, type(None)) if optional else (kind,)

    def load(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, kinds):  # a bool is never a number here
            raise TypeError(f"not a {kind.__name__}")
        return value

    return load


def _float(value: object) -> float:
    # JSON tells integers from floats: a float field may come back as an integer, never as a bool
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    return float(value)


def _time(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError("a time is not a string")
    return datetime.fromisoformat(value)


def _array(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("not an array")
    return value


def _or_none(convert: Convert) -> Convert:
    return lambda value: None if value is None else convert(value)


def _conversion(hint: Any, optional: bool = False) -> tuple[Convert | None, Convert]:
    """(to JSON, or None for a value that is JSON as it is; from JSON) for a field of this type.

    TypeError, at import, for a type with no conversion yet: a new kind of field can't be
    cached wrongly."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
        return _conversion(next(a for a in args if a is not type(None)), optional=True)
    # the most common fields: checked in one call, None included
    if hint in (str, int):
        return None, _checked(hint, optional)
    if hint is float:
        return None, _or_none(_float) if optional else _float
    dump, load = _converted(hint, origin, args)
    return (_or_none(dump), _or_none(load)) if optional else (dump, load)


def _converted(hint: Any, origin: object, args: tuple[Any, ...]) -> tuple[Convert, Convert]:
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        dump_item, load_item = _conversion(args[0])
        dump = list if dump_item is None else lambda items: [dump_item(i) for i in items]
        return dump, lambda items: tuple(load_item(i) for i in _array(items))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        layout = Layout(hint)
        return layout.dump, layout.load
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        enum: type[StrEnum] = hint
        text = _checked(str, optional=False)
        return (lambda member: member.value), (lambda value: enum(text(value)))
    if hint is datetime:
        return datetime.isoformat, _time
    raise TypeError(f"the cache codec has no conversion for {hint!r}")


class Layout(Generic[R]):
    """A record as a JSON array of its dataclass fields, in declaration order."""

    def __init__(self, record: type[R]) -> None:
        hints = get_type_hints(record)
        fields = dataclasses.fields(record)  # type: ignore[arg-type]
        if any(not f.init or f.kw_only for f in fields):  # load passes the values by position
            raise TypeError(f"{record.__name__} has a field that can't be passed by position")
        self.name = record.__name__
        self.fields = tuple(f.name for f in fields)
        conversions = [_conversion(hints[name]) for name in self.fields]
        self._dumps = tuple(dump for dump, _ in conversions)
        self._loads = tuple(load for _, load in conversions)
        self._make: Callable[..., R] = record

    def dump(self, record: R) -> list[Any]:
        values = (getattr(record, name) for name in self.fields)  # one per field, as the dumps
        return [v if dump is None else dump(v) for dump, v in zip(self._dumps, values, strict=False)]

    def load(self, raw: object) -> R:
        """The record ``raw`` holds; ValueError or TypeError if it holds none."""
        items = _array(raw)
        if len(items) != len(self._loads):
            raise ValueError(f"{len(items)} values for the {len(self._loads)} fields of {self.name}")
        return self._make(*[load(v) for load, v in zip(self._loads, items, strict=False)])  # length checked


SUMMARY = Layout(TranscodeSummaryRecord)


def encode(outcome: Outcome) -> bytes | None:
    """JSON bytes for a record or a VideoNotFound; ``None`` for anything that must not be cached."""
    if isinstance(outcome, TranscodeSummaryRecord):
        return orjson.dumps(["S", *SUMMARY.dump(outcome)])
    if isinstance(outcome, VideoNotFound):
        return orjson.dumps(["N", outcome.video_id])
    return None


def decode(data: bytes | str) -> Outcome | None:
    """The outcome stored by :func:`encode`, or ``None`` if ``data`` is not one."""
    try:
        raw = orjson.loads(data)
        if raw[0] == "N":
            return VideoNotFound(str(raw[1]))
        if raw[0] != "S":
            return None
        return SUMMARY.load(raw[1:])
    except (ValueError, TypeError, IndexError, KeyError):
        return None
