"""What this service tells a supergraph about itself (``_service { sdl }``).

The subgraph SDL leaves out ``Query.videos(ids:)``: that root field is the entry point for schema
stitching and direct use, while in a supergraph the service that owns ``Video`` (a catalog) owns
``Query.videos`` too, and two subgraphs can't share a root field whose required arguments differ.
The router reaches ``Video.transcodeSummary`` through ``_entities``, which stays.

``_entities`` is this module's own rather than Strawberry's: Strawberry's fails the whole field (every
entity of the fetch null, one uncoded ``INTERNAL_SERVER_ERROR``) when one representation has an unknown
or missing ``__typename``, and nulls an entity with an uncoded error when its key is missing or it
carries a field the type's ``resolve_reference`` doesn't take. Here each representation is checked on
its own: a bad one is ``null`` at its index with ``BAD_USER_INPUT``, extra fields are ignored, and the
rest of the fetch goes on. Valid ones go to the types' ``resolve_reference``, i.e. the request's loader.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import Annotated, Any

import strawberry
from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    GraphQLError,
    ObjectTypeDefinitionNode,
    parse,
    print_ast,
)
from strawberry.federation.schema import FederationAny
from strawberry.printer import print_schema
from strawberry.types import Info

from gateway.schema.context import Context
from gateway.schema.errors import bad_user_input
from gateway.schema.query import Query
from gateway.schema.types import TranscodeSummary, Video

STITCHING_ONLY_FIELDS = frozenset({"videos"})
INCREMENTAL = frozenset({"defer", "stream"})

Entity = Annotated[TranscodeSummary | Video, strawberry.union("_Entity")]
EntityResult = Video | TranscodeSummary | Awaitable[TranscodeSummary | None] | GraphQLError
Resolver = Callable[[Info[Context, None], strawberry.ID], EntityResult]

# __typename -> (its @key field, how a representation of it is resolved)
ENTITIES: dict[str, tuple[str, Resolver]] = {
    "Video": ("id", lambda info, key: Video.resolve_reference(id=key)),
    "TranscodeSummary": ("videoId", lambda info, key: TranscodeSummary.resolve_reference(info, key)),
}


def subgraph_sdl(schema: strawberry.Schema) -> str:
    document: DocumentNode = parse(print_schema(schema))
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, DirectiveDefinitionNode) and definition.name.value in INCREMENTAL:
            continue  # executable directives: a router runs @defer itself (and composition has its own)
        if isinstance(definition, ObjectTypeDefinitionNode) and definition.name.value == "Query":
            fields = tuple(f for f in definition.fields or () if f.name.value not in STITCHING_ONLY_FIELDS)
            definition = ObjectTypeDefinitionNode(
                name=definition.name,
                description=definition.description,
                interfaces=definition.interfaces,
                directives=definition.directives,
                fields=fields,
            )
        definitions.append(definition)
    return print_ast(DocumentNode(definitions=tuple(definitions)))


@cache
def _cached_sdl(schema: strawberry.Schema) -> str:
    return subgraph_sdl(schema)


@strawberry.type(name="_Service")
class Service:
    sdl: str = strawberry.field(description="The subgraph SDL, for composition.")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"


def _representation_error(index: int, problem: str) -> GraphQLError:
    return bad_user_input(f"representations[{index}] {problem}", argument="representations")


def resolve_representation(info: Info[Context, None], index: int, representation: object) -> EntityResult:
    """The entity (or the awaitable of it) for one representation, or the error at its index."""
    if not isinstance(representation, dict):
        return _representation_error(index, "is not an object")
    typename = representation.get("__typename")
    if typename not in ENTITIES:
        known = " or ".join(repr(name) for name in ENTITIES)
        given = "no __typename" if typename is None else f"__typename {_shown(typename)}"
        return _representation_error(index, f"has {given}; expected {known}")
    key_field, resolve = ENTITIES[typename]
    key = representation.get(key_field)
    # the ID scalar's input coercion: a string, or an integer (never a boolean)
    if isinstance(key, bool) or not isinstance(key, str | int):
        return _representation_error(index, f"needs {key_field!r}, the key of {typename}, as a string")
    return resolve(info, strawberry.ID(str(key)))


@strawberry.type(name="Query")
class _EntitiesQuery:
    @strawberry.field(name="_entities")
    def entities(
        self, info: Info[Context, None], representations: list[FederationAny]
    ) -> list[Entity | None]:
        # graphql-core nulls an item that is an exception and records the error at its index
        results: list[Any] = [
            resolve_representation(info, index, r) for index, r in enumerate(representations)
        ]
        return results


@strawberry.type(name="Query")
class FederatedQuery(_EntitiesQuery, Query):
    @strawberry.field(name="_service")
    def service(self, info: Info[Context, None]) -> Service:
        return Service(sdl=_cached_sdl(info.schema))
