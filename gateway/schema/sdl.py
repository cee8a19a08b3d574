"""The schema as SDL: plain (``schema.graphql``) and as a Federation 2 subgraph."""

from __future__ import annotations

import warnings

import strawberry
from graphql import GraphQLSchema, print_schema, specified_directives
from strawberry.schema.config import StrawberryConfig

from gateway.config.settings import Settings
from gateway.schema.build import build_schema
from gateway.schema.federation import subgraph_sdl
from gateway.schema.query import Query
from gateway.schema.scalars import SCALAR_MAP
from gateway.schema.subscription import Subscription


def plain_sdl(settings: Settings) -> str:
    """The SDL without federation's fields, types and directives."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the types carry @key; this schema deliberately ignores it
        schema = strawberry.Schema(
            query=Query, subscription=Subscription, config=StrawberryConfig(scalar_map=SCALAR_MAP)
        )
    full = schema._schema
    bare = GraphQLSchema(
        query=full.query_type,
        subscription=full.subscription_type,
        types=[t for name, t in full.type_map.items() if not name.startswith("_")],
        directives=specified_directives,
    )
    return print_schema(bare) + "\n"


def federation_sdl(settings: Settings) -> str:
    """The subgraph SDL, as ``_service { sdl }`` returns it."""
    return subgraph_sdl(build_schema(settings)) + "\n"
