"""Subscription events of plain-data records, built once per selection and change (``fanout.py``).

graphql-core executes each event of a subscription as its own small operation: a copy of the
subscription's executor (``build_per_event_executor``) collects the root fields again and resolves
the one root field, whose resolver returns the event as it is. For an event that is a plain-data
record under a root field without directives, that operation's answer is ``{name: project(record)}``:
:class:`EventExecutor` takes it from the shared events, and remembers the plan (response name and
projector) for the subscription's later events, so they skip collecting and executing altogether.

Anything else takes graphql-core's path: an event that isn't a record (an error), a record the
projector refuses, directives, extensions that wrap resolvers, execution hooks or an abort signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import ExecutionResult, GraphQLObjectType, OperationType, get_named_type
from graphql.execution.collect_fields import DeferUsage, FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue

from gateway.schema.errors import GatewayExecutor
from gateway.schema.fanout import SHARED
from gateway.schema.projection import PLAIN_DATA, Projector

PLAIN_DIRECTIVES = frozenset({"skip", "include"})  # already applied when graphql-core collects

_PLAN = "_event_plan"
"""The attribute holding a subscription's plan: a list shared by its per-event executors (empty
until the first event settles it; then one (response name, projector, record type), or None)."""


def plain(field_details_list: FieldDetailsList) -> bool:
    """No ``@defer``, ``@stream`` or other directive left on these nodes, no fragment arguments."""
    for detail in field_details_list:
        if detail.defer_usage is not None or detail.fragment_variable_values is not None:
            return False
        if any(d.name.value not in PLAIN_DIRECTIVES for d in detail.node.directives or ()):
            return False
    return True


class EventExecutor(GatewayExecutor):
    def _projector(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Projector | None:
        raise NotImplementedError  # ProjectingExecutor's

    def build_per_event_executor(self, payload: Any) -> Any:
        self.__dict__.setdefault(_PLAN, [])  # before the copy: every event's copy shares it
        return super().build_per_event_executor(payload)

    def execute_operation(self, serially: bool | None = None) -> Any:
        plan: list[tuple[str, Projector, type] | None] | None = self.__dict__.get(_PLAN)
        if plan and plan[0] is not None and self.abort_signal is None and self.hooks is None:
            response_name, project, record = plan[0]
            if self.root_value.__class__ is record:
                try:
                    data = SHARED.event(project, response_name, self.root_value)
                    SHARED.planned += 1
                    return ExecutionResult(data, None)
                except Exception:  # the standard path completes it, errors and all
                    pass
        return super().execute_operation(serially)

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        new_defer_usages: Sequence[DeferUsage],
    ) -> AwaitableOrValue[dict[str, Any]]:
        """A subscription event that is one plain-data record under one root field: the data
        shared by every subscriber with this selection."""
        if (
            len(grouped_field_set) == 1
            and not new_defer_usages
            and self.operation.operation is OperationType.SUBSCRIPTION
        ):
            shared = self._shared_event(root_type, root_value, grouped_field_set)
            if shared is not None:
                return shared
        return super().execute_collected_root_fields(
            root_type, root_value, grouped_field_set, serially, new_defer_usages
        )

    def _shared_event(
        self, root_type: GraphQLObjectType, root_value: Any, grouped_field_set: GroupedFieldSet
    ) -> dict[str, Any] | None:
        ((response_name, details),) = grouped_field_set.items()
        field = root_type.fields.get(details[0].node.name.value)
        if field is None or not plain(details):
            return None
        named = get_named_type(field.type)
        projection = PLAIN_DATA.get(named.name)
        if projection is None or root_value.__class__ is not projection.record:
            return None
        project = self._projector(named, details)
        if project is None:
            return None
        try:
            data = SHARED.event(project, response_name, root_value)
        except Exception:  # the standard path completes it, errors and all
            return None
        plan: list[tuple[str, Projector, type] | None] | None = self.__dict__.get(_PLAN)
        if plan is not None and not plan:
            plan.append((response_name, project, projection.record))
        return data
