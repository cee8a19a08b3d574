"""The schema as SDL: plain (``schema.graphql``) and as a Federation 2 subgraph."""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import Any, cast

import strawberry
from graphql import print_schema

from gateway.schema.build import build_schema
from gateway.schema.query import Query
from gateway.schema.scalars import DateTime
from gateway.settings import Settings


def plain_sdl(settings: Settings) -> str:
    """The SDL without federation's fields, types and directives."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the types carry @key; this schema deliberately ignores it
        schema = strawberry.Schema(query=Query, scalar_overrides={datetime: cast(Any, DateTime)})
    return print_schema(schema._schema) + "\n"


def federation_sdl(settings: Settings) -> str:
    """The subgraph SDL, as ``_service { sdl }`` returns it."""
    return build_schema(settings).as_str() + "\n"
