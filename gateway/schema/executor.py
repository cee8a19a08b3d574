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
    GraphQLList,
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
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel

from gateway.schema.events import PLAIN_DIRECTIVES, EventExecutor, plain
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
from gateway.schema.shape_cache import MISSING, ShapeCache

SHAPES = ShapeCache()
"""Projectors per document and field, across requests (bounded)."""


class ProjectingExecutor(EventExecutor):
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

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        """A list of plain-data records (``transcodeSummaries``, ``jobs`` on the standard path) in
        one loop; an item that isn't a projectable record (an error, null) is completed as
        graphql-core completes a list item, at its index."""
        item_type = return_type.of_type
        named = item_type.of_type if is_non_null_type(item_type) else item_type
        projection = PLAIN_DATA.get(getattr(named, "name", ""))
        if (
            projection is None
            or result.__class__ is not list
            or any(
                d.name.value not in PLAIN_DIRECTIVES
                for f in field_details_list
                for d in f.node.directives or ()
            )
        ):
            return super().complete_list_value(
                return_type, field_details_list, info, path, result, position_context
            )
        project = self._projector(named, field_details_list)  # type: ignore[arg-type]
        if project is None:
            return super().complete_list_value(
                return_type, field_details_list, info, path, result, position_context
            )
        return self._complete_records(
            project, projection.record, item_type, field_details_list, info, path, result, position_context
        )

    def _complete_records(
        self,
        project: Projector,
        record: type,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: list[Any],
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        """graphql-core's ``complete_iterable_value``, with a projected record in one call."""
        completed: list[Any] = []
        append = completed.append
        awaiting: list[int] = []
        try:
            for index, item in enumerate(items):
                if item.__class__ is record:
                    try:
                        append(project(item))
                        continue
                    except Exception:  # the standard path completes it, errors and all
                        pass
                item_path = path.add_key(index, None)
                if self.is_awaitable(item):
                    append(
                        self.complete_awaitable_list_item_value(
                            item, item_type, field_details_list, info, item_path, position_context
                        )
                    )
                    awaiting.append(index)
                elif self.complete_list_item_value(
                    item, completed, item_type, field_details_list, info, item_path, position_context
                ):
                    awaiting.append(index)
        except Exception:
            if awaiting:
                self.settle_in_background([completed[i] for i in awaiting])
            raise
        if not awaiting:
            return completed

        async def settled() -> list[Any]:
            results = await gather_with_cancel(*(completed[i] for i in awaiting))
            for index, value in zip(awaiting, results, strict=True):
                completed[index] = value
            return completed

        return settled()

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
        made: Projector | None = None
        if not self._wrapped_resolvers():
            nodes = [detail.node for detail in field_details_list]
            variables = self.variable_values.coerced
            cacheable = all(d.fragment_variable_values is None for d in field_details_list)
            made = SHAPES.get(return_type, nodes, variables) if cacheable else MISSING
            if made is MISSING:
                shape = self._shape(return_type, field_details_list)
                made = projector(shape) if shape is not None else None
                if cacheable:
                    SHAPES.put(return_type, nodes, self.fragment_definitions, variables, made)
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
            if not plain(details):
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
