"""The shape of every message of both WebSocket protocols, checked before a handler sees it: a
malformed message gets the protocol's answer (graphql-transport-ws: close 4400; graphql-ws: an
``error`` message) instead of a traceback, or an operation left without any reply."""

from __future__ import annotations

from collections.abc import Mapping

NOT_AN_OBJECT = "__not_an_object__"
"""The key of the marker the legacy adapter yields for a frame that is not a JSON object."""

_TRANSPORT_TYPES = frozenset({"connection_init", "ping", "pong", "subscribe", "complete"})
_LEGACY_TYPES = frozenset({"connection_init", "connection_terminate", "start", "stop"})
_BAD_PAYLOAD = "Invalid message: the payload must be an object"


def _optional(message: Mapping[str, object], key: str, kind: type) -> bool:
    value = message.get(key)
    return value is None or isinstance(value, kind)


def _operation_problem(payload: object) -> str | None:
    if not isinstance(payload, dict):
        return _BAD_PAYLOAD
    persisted = isinstance(payload.get("extensions"), dict) and "persistedQuery" in payload["extensions"]
    if not isinstance(payload.get("query"), str) and not (persisted and payload.get("query") is None):
        return "Invalid message: payload.query must be a string"  # or absent, with a persisted query's hash
    if not _optional(payload, "variables", dict):
        return "Invalid message: payload.variables must be an object"
    if not _optional(payload, "operationName", str):
        return "Invalid message: payload.operationName must be a string"
    if not _optional(payload, "extensions", dict):
        return "Invalid message: payload.extensions must be an object"
    return None


def _id_problem(message: Mapping[str, object]) -> str | None:
    op_id = message.get("id")
    return None if isinstance(op_id, str) and op_id else "Invalid message: id must be a non-empty string"


def transport_problem(message: Mapping[str, object]) -> str | None:
    """Why a graphql-transport-ws message is malformed (None: it is well-formed)."""
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in _TRANSPORT_TYPES:
        return "Invalid message: unknown or missing type"
    if kind in ("connection_init", "ping", "pong"):
        return None if _optional(message, "payload", dict) else _BAD_PAYLOAD
    problem = _id_problem(message)
    return problem or (_operation_problem(message.get("payload")) if kind == "subscribe" else None)


def legacy_problem(message: Mapping[str, object]) -> str | None:
    """Why a graphql-ws message is malformed (None: it is well-formed)."""
    if NOT_AN_OBJECT in message:
        return "Invalid message: every message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in _LEGACY_TYPES:
        return "Invalid message type"
    if kind == "connection_init":
        return None if _optional(message, "payload", dict) else _BAD_PAYLOAD
    if kind == "connection_terminate":
        return None
    problem = _id_problem(message)
    return problem or (_operation_problem(message.get("payload")) if kind == "start" else None)


def legacy_error(message: Mapping[str, object], problem: str) -> dict[str, object]:
    """graphql-ws's answer to a malformed message: an ``error`` naming it (and its id, when it has one)."""
    answer: dict[str, object] = {"type": "error", "payload": {"message": problem}}
    op_id = message.get("id")
    if isinstance(op_id, str):
        answer["id"] = op_id
    return answer


def close_reason(reason: str) -> str:
    """A close reason fits in 123 bytes of UTF-8 (RFC 6455); a longer one would fail the close."""
    encoded = reason.encode()
    return reason if len(encoded) <= 123 else encoded[:120].decode(errors="ignore") + "..."
