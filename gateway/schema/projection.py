"""Compiled projections: a plain-data subtree of an answer (``TranscodeSummary``, ``TranscodeJob``)
built straight from its ``vod.models`` record, without graphql-core's per-field machinery.

A :class:`Shape` is what an operation selects of one object type, as graphql-core collected it
(aliases, fragments and ``@skip``/``@include`` already applied). :func:`projector` turns a shape
into one Python function, generated once per distinct shape and kept in a bounded cache, that maps
a record to the response dict in the same key order and with the same values as graphql-core's
completion: ``__typename``, enum names, custom scalars through their own serialisers.

A projector never decides about errors: on anything unusual (a value graphql-core would refuse, a
null in a non-null field, a record of another type) it raises, and the executor completes that
object on the standard path instead, which reports it exactly as graphql-core does.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    Undefined,
    get_named_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_specified_scalar_type,
)

from gateway.schema.types import JOB_PROJECTION, SUMMARY_PROJECTION, Projection, Source

Projector = Callable[[Any], dict[str, Any]]
Complete = Callable[[Any], Any]

# GraphQL type name -> how its records become the Strawberry object (for the standard path)
PLAIN_DATA: dict[str, Projection[Any, Any]] = {
    "TranscodeSummary": SUMMARY_PROJECTION,
    "TranscodeJob": JOB_PROJECTION,
}
CACHE_SIZE = 512
"""Distinct shapes kept compiled (a few hundred bytes each, plus the code)."""

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class NotProjectable(Exception):
    """The value isn't one a projector completes as graphql-core would: use the standard path."""


class Leaf(NamedTuple):
    attribute: str
    convert: Callable[[Any], Any] | None
    output_type: GraphQLOutputType


class Objects(NamedTuple):
    """A list of plain-data objects (``jobs``)."""

    attribute: str
    output_type: GraphQLOutputType  # the field's type: [T!]!, [T], ...
    shape: Shape


class Typename(NamedTuple):
    name: str


Selected = Leaf | Objects | Typename


@dataclasses.dataclass(frozen=True, slots=True)
class Shape:
    """The response names an operation selects on ``object_type``, in order, and what fills each."""

    object_type: GraphQLObjectType
    record: type
    fields: tuple[tuple[str, Selected], ...]

    @property
    def key(self) -> tuple[object, ...]:
        """Hashable, and equal exactly when two shapes compile to the same projector."""
        parts: list[object] = [self.object_type]
        for name, selected in self.fields:
            parts.append((name, selected.shape.key if isinstance(selected, Objects) else selected))
        return tuple(parts)


@functools.lru_cache(maxsize=1024)
def field_source(type_: GraphQLObjectType, field_name: str) -> tuple[str, Callable[[Any], Any] | None] | None:
    """The record attribute behind a field of a plain-data type, and its conversion; None if the
    field isn't plain data (it has a resolver, or no record attribute)."""
    projection = PLAIN_DATA.get(type_.name)
    field = type_.fields.get(field_name)
    if projection is None or field is None:
        return None
    definition = (field.extensions or {}).get("strawberry-definition")
    if definition is None or getattr(definition, "base_resolver", None) is not None:
        return None
    declared: Source = definition.metadata.get("record_source", Source(None, None))
    attribute = declared.attribute or definition.python_name
    if attribute not in projection.sources.values():
        return None
    return attribute, declared.convert


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


class _Memo(dict[Any, Any]):
    """Enum values: each record value's completed output, computed once (a status has a handful)."""

    def __init__(self, complete: Complete) -> None:
        super().__init__()
        self._complete = complete

    def __missing__(self, value: Any) -> Any:
        completed = self._complete(value)
        if len(self) < 64:
            self[value] = completed
        return completed


class _Codegen:
    def __init__(self) -> None:
        self.names: dict[str, object] = {
            "NotProjectable": NotProjectable,
            "_isfinite": math.isfinite,
        }
        self.functions: list[str] = []

    def bind(self, value: object) -> str:
        name = f"_h{len(self.names)}"
        self.names[name] = value
        return name

    def leaf(self, leaf: Leaf) -> str:
        get = f"r.{leaf.attribute}"
        complete = leaf_completer(leaf.output_type)
        if leaf.convert is not None:
            convert = leaf.convert
            complete = _compose(complete, convert)
        named = get_named_type(leaf.output_type)
        if isinstance(named, GraphQLEnumType):
            return f"{self.bind(_Memo(complete))}[{get}]"
        helper = self.bind(complete)
        if leaf.convert is not None or not isinstance(named, GraphQLScalarType):
            return f"{helper}({get})"
        if is_specified_scalar_type(named):
            check = {
                "String": "type(v) is str",
                "ID": "type(v) is str",
                "Int": f"type(v) is int and {_INT_MIN} <= v <= {_INT_MAX}",
                "Float": "type(v) is float and _isfinite(v)",
                "Boolean": "type(v) is bool",
            }[named.name]
        elif named.coerce_output_value is int:  # Long: int(v) is v for an int
            check = "type(v) is int"
        else:
            return f"{helper}({get})"
        return f"(v if {check.replace('type(v)', f'type(v := {get})', 1)} else {helper}(v))"

    def objects(self, objects: Objects) -> str:
        inner = self.shape(objects.shape)
        field_type = objects.output_type
        outer_null = not is_non_null_type(field_type)
        list_type = field_type.of_type if is_non_null_type(field_type) else field_type
        if not isinstance(list_type, GraphQLList):
            raise TypeError(f"{objects.output_type} is not a list")
        # a null item fails the item's projector: the standard path completes it
        items = f"[{inner}(j) for j in {self.bind(_sequence)}(v)]"
        if outer_null:
            return f"(None if (v := r.{objects.attribute}) is None else {items})"
        return f"({items} if (v := r.{objects.attribute}) is not None else {self.bind(_refuse)}())"

    def shape(self, shape: Shape) -> str:
        name = f"_p{len(self.functions)}"
        self.functions.append("")  # reserve the slot: inner shapes come after
        record = self.bind(shape.record)
        entries = []
        for response_name, selected in shape.fields:
            if isinstance(selected, Typename):
                value = repr(selected.name)
            elif isinstance(selected, Objects):
                value = self.objects(selected)
            else:
                value = self.leaf(selected)
            entries.append(f"        {response_name!r}: {value},")
        index = int(name[2:])
        self.functions[index] = "\n".join(
            [
                f"def {name}(r):",
                f"    if r.__class__ is not {record}:",
                "        raise NotProjectable",
                "    return {",
                *entries,
                "    }",
            ]
        )
        return name


def _compose(complete: Complete, convert: Callable[[Any], Any]) -> Complete:
    def converted(value: Any) -> Any:
        return complete(convert(value))

    return converted


def _sequence(value: Any) -> Sequence[Any]:
    if type(value) is tuple or type(value) is list:
        return value
    raise NotProjectable


def _refuse() -> None:
    raise NotProjectable


def compile_shape(shape: Shape) -> Projector:
    """One function for ``shape``: record -> response dict (raises :class:`NotProjectable`)."""
    gen = _Codegen()
    gen.shape(shape)
    namespace: dict[str, Any] = dict(gen.names)
    exec(compile("\n\n".join(gen.functions), f"<projection of {shape.object_type.name}>", "exec"), namespace)
    projector: Projector = namespace["_p0"]
    return projector


_compiled: OrderedDict[tuple[object, ...], Projector] = OrderedDict()


def projector(shape: Shape) -> Projector:
    """The compiled projector of ``shape``, from the bounded cache (least recently used out)."""
    key = shape.key
    found = _compiled.get(key)
    if found is not None:
        _compiled.move_to_end(key)
        return found
    made = _compiled[key] = compile_shape(shape)
    if len(_compiled) > CACHE_SIZE:
        _compiled.popitem(last=False)
    return made


def as_object(type_: GraphQLObjectType, record: Any) -> Any:
    """The Strawberry object the standard path completes, for a record of a plain-data type."""
    return PLAIN_DATA[type_.name](record)
