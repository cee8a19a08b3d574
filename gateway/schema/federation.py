"""What this service tells a supergraph about itself (``_service { sdl }``).

The subgraph SDL leaves out ``Query.videos(ids:)``: that root field is the entry point for schema
stitching and direct use, while in a supergraph the service that owns ``Video`` (a catalog) owns
``Query.videos`` too, and two subgraphs can't share a root field whose required arguments differ.
The router reaches ``Video.transcodeSummary`` through ``_entities``, which stays.
"""

from __future__ import annotations

from functools import cache

import strawberry
from graphql import DocumentNode, ObjectTypeDefinitionNode, parse, print_ast
from strawberry.printer import print_schema
from strawberry.types import Info

from gateway.schema.context import Context
from gateway.schema.query import Query

STITCHING_ONLY_FIELDS = frozenset({"videos"})


def subgraph_sdl(schema: strawberry.Schema) -> str:
    document: DocumentNode = parse(print_schema(schema))
    definitions = []
    for definition in document.definitions:
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


@strawberry.type(name="Query")
class FederatedQuery(Query):
    @strawberry.field(name="_service")
    def service(self, info: Info[Context, None]) -> Service:
        return Service(sdl=_cached_sdl(info.schema))
