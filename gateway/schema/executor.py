"""The gateway's executor: graphql-core's, except that a plain-data object (``TranscodeSummary``,
``TranscodeJob``) whose resolver returned its ``vod.models`` record is completed by a compiled
projection (``schema/projection.py``) rather than field by field.

The projection applies where it gives exactly graphql-core's answer; everywhere else the record
becomes its Strawberry object and graphql-core completes it as usual:
- what is selected below the object is collected by graphql-core itself (aliases, fragments,
  ``@skip``/``@include`` with this request's variables), once per request and field;
- any ``@defer``, ``@stream`` or other directive in the subtree, fragment arguments, a field that
  isn't a record attribute (a resolver), or extensions that wrap resolvers: the standard path;
- a value the projection doesn't complete as graphql-core would (an error, a null in a non-null
  field): that object, and only it, on the standard path, which reports the error at its path.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    get_named_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path

from gateway.schema.errors import GatewayExecutor
from gateway.schema.projection import (
    PLAIN_DATA,
    Leaf,
    Objects,
    Projector,
    Selected,
    Shape,
    Typename,
    as_object,
    field_source,
    projector,
)

_PLAIN_DIRECTIVES = frozenset({"skip", "include"})  # already applied when graphql-core collects


class ProjectingExecutor(GatewayExecutor):
    """Completes plain-data records with compiled projections; graphql-core for the rest."""

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        projection = PLAIN_DATA.get(return_type.name)
        if projection is not None and result.__class__ is projection.record:
            project = self._projector(return_type, field_details_list)
            if project is not None:
                try:
                    return project(result)
                except Exception:  # the standard path completes it, errors and all
                    pass
            result = as_object(return_type, result)
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _projector(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Projector | None:
        # per request, keyed like graphql-core's own memo of collected subfields: every item of a
        # list shares its field_details_list; the list is kept so that its id stays unique
        memo: dict[int, tuple[FieldDetailsList, Projector | None]] | None = self.__dict__.get("_projectors")
        if memo is None:
            memo = self.__dict__["_projectors"] = {}
        found = memo.get(id(field_details_list))
        if found is not None:
            return found[1]
        shape = None if self._wrapped_resolvers() else self._shape(return_type, field_details_list)
        made = projector(shape) if shape is not None else None
        memo[id(field_details_list)] = (field_details_list, made)
        return made

    def _wrapped_resolvers(self) -> bool:
        """Extensions that see every resolver call (e.g. federated tracing): no projections."""
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)

    def _shape(self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList) -> Shape | None:
        grouped, new_defer_usages, forbidden = self.collect_subfields(return_type, field_details_list)
        if new_defer_usages or forbidden:
            return None
        fields: list[tuple[str, Selected]] = []
        for response_name, details in grouped.items():
            for detail in details:
                if detail.defer_usage is not None or detail.fragment_variable_values is not None:
                    return None
                if any(d.name.value not in _PLAIN_DIRECTIVES for d in detail.node.directives or ()):
                    return None
            name = details[0].node.name.value
            if name == "__typename":
                fields.append((response_name, Typename(return_type.name)))
                continue
            field = return_type.fields.get(name)
            if field is None:
                continue  # graphql-core leaves an unknown field out (validation refuses it first)
            source = field_source(return_type, name)
            if source is None:
                return None
            attribute, convert = source
            named = get_named_type(field.type)
            if is_leaf_type(named):
                fields.append((response_name, Leaf(attribute, convert, field.type)))
                continue
            item = _list_item(field.type)
            if item is None or not is_object_type(item) or item.name not in PLAIN_DATA:
                return None
            inner = self._shape(item, details)
            if inner is None:
                return None
            fields.append((response_name, Objects(attribute, field.type, inner)))
        return Shape(return_type, PLAIN_DATA[return_type.name].record, tuple(fields))


def _list_item(type_: GraphQLOutputType) -> GraphQLOutputType | None:
    """``T`` of ``[T]``, ``[T!]``, ``[T]!`` or ``[T!]!``; None for anything else."""
    if is_non_null_type(type_):
        type_ = type_.of_type
    if not is_list_type(type_):
        return None
    item: GraphQLOutputType = type_.of_type
    if is_non_null_type(item):
        item = item.of_type
    return None if is_list_type(item) else item
