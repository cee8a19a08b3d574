"""GraphQL errors with a stable ``extensions.code``; the only place VOD errors become GraphQL ones."""

from __future__ import annotations

from graphql import GraphQLError

from gateway.vod.errors import VodError

BAD_USER_INPUT = "BAD_USER_INPUT"


def from_vod_error(error: VodError) -> GraphQLError:
    return GraphQLError(error.message, extensions=error.extensions())


def bad_user_input(message: str, **extensions: object) -> GraphQLError:
    return GraphQLError(message, extensions={"code": BAD_USER_INPUT, **extensions})
