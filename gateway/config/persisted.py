"""The rows of persisted queries (``http/persisted.py`` serves them), and the reader of the
safelist file: its documents are loaded and their hashes checked once, at start-up.

The file is JSON, in either shape:

- Apollo's persisted query manifest (what ``generate-persisted-query-manifest`` writes):
  ``{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": "<sha256>",
  "name": "...", "type": "query", "body": "<document>"}, ...]}``;
- a plain object of hashes to documents: ``{"<sha256>": "<document>", ...}``.

Each ``id`` (key) must be the lowercase hex SHA-256 of its document's exact text, as Apollo's
``PersistedQueryLink`` and urql's ``persistedExchange`` compute it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from gateway.config import casts
from gateway.config.rows import Row, SettingsError, value_of

PERSISTED = "Persisted queries"
FILE = "GATEWAY_PERSISTED_QUERIES_FILE"
ONLY = "GATEWAY_PERSISTED_ONLY"


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def _entries(data: object) -> list[tuple[object, object]]:
    if isinstance(data, dict) and data.get("format") == "apollo-persisted-query-manifest":
        operations = data.get("operations")
        if not isinstance(operations, list):
            raise ValueError('its "operations" is not a list')
        return [(o.get("id"), o.get("body")) if isinstance(o, dict) else (None, None) for o in operations]
    if isinstance(data, dict):
        return list(data.items())
    raise ValueError("expected a JSON object (an Apollo manifest, or hashes to documents)")


def read_documents(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The safelist's ``(sha256, document)`` pairs; a file that can't be read, isn't one of the two
    shapes, or has a hash that isn't its document's stops start-up with one line."""
    path = env.get(FILE, "").strip()
    only = value_of(env, next(r for r in persisted_rows() if r.variable == ONLY))
    if not path:
        if only:
            raise SettingsError(f"{ONLY}=true needs {FILE}: the documents the gateway accepts")
        return ()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = _entries(data)
    except OSError as exc:
        raise SettingsError(f"{FILE}={path!r} cannot be read: {exc.strerror}") from None
    except ValueError as exc:  # JSONDecodeError included
        raise SettingsError(f"{FILE}={path!r} is not a persisted query file: {exc}") from None
    documents: dict[str, str] = {}
    for number, (digest, document) in enumerate(entries, 1):
        if not isinstance(digest, str) or not isinstance(document, str):
            raise SettingsError(f"{FILE}={path!r}: entry {number} needs a string id and a string body")
        if sha256_hex(document) != digest.lower():
            raise SettingsError(f"{FILE}={path!r}: entry {number}'s id is not the SHA-256 of its body")
        documents[digest.lower()] = document
    if not documents:
        raise SettingsError(f"{FILE}={path!r} holds no documents")
    return tuple(documents.items())


def persisted_rows() -> tuple[Row, ...]:
    return (
        Row(PERSISTED, "apq", "GATEWAY_APQ", casts.boolean, True, "true or false",
            "automatic persisted queries (Apollo's `extensions.persistedQuery`): a hash stands for a "
            "document registered before (or in `GATEWAY_PERSISTED_QUERIES_FILE`); `false`: a request "
            "with a hash gets `PERSISTED_QUERY_NOT_SUPPORTED`, and the client sends documents"),
        Row(PERSISTED, "apq_max_entries", "GATEWAY_APQ_MAX_ENTRIES", casts.positive_int, 10_000,
            "a whole number >= 1", "documents kept in memory (least recently used dropped first); with "
            "`GATEWAY_REDIS_URL` they are also shared through Redis, for a day. Only a document that "
            "parsed and validated registers"),
        Row(PERSISTED, "apq_max_bytes", "GATEWAY_APQ_MAX_BYTES", casts.positive_int, 16 * 1024 * 1024,
            "bytes >= 1", "the documents' total size in memory, in bytes (least recently used dropped "
            "first, as for the count)"),
        Row(PERSISTED, "apq_max_document_bytes", "GATEWAY_APQ_MAX_DOCUMENT_BYTES", casts.positive_int,
            32 * 1024, "bytes >= 1", "the largest document that registers, in bytes: a larger one runs "
            "but isn't kept (in memory or Redis), so its hash alone stays `PersistedQueryNotFound`"),
        Row(PERSISTED, "persisted_only", ONLY, casts.boolean, False, "true or false",
            "a safelist: only the documents of `GATEWAY_PERSISTED_QUERIES_FILE` run (by hash, or by their "
            "exact text); anything else is `PERSISTED_QUERY_NOT_IN_LIST` (400), and nothing registers"),
        Row(PERSISTED, "persisted_documents", FILE, str, (), "",
            "a JSON file of documents loaded at start-up: an Apollo persisted query manifest, or "
            "`{\"<sha256>\": \"<document>\"}` ([docs/persisted-queries.md](docs/persisted-queries.md)); "
            "their hashes are checked, a wrong one stops start-up", read=read_documents),
    )  # fmt: skip
