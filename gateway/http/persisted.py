"""Automatic persisted queries (Apollo's ``extensions.persistedQuery {version: 1, sha256Hash}``, as
Apollo Client's ``PersistedQueryLink`` and urql's ``persistedExchange`` send it), and the optional
safelist (``GATEWAY_PERSISTED_ONLY``).

- a hash alone, known: its document runs; unknown: ``PersistedQueryNotFound`` (HTTP 200, the exact
  shape both clients look for), and the client sends the hash again with the document;
- a hash with its document: the hash is checked (a mismatch is ``BAD_USER_INPUT``), and the
  document registers once it has parsed and validated (:meth:`PersistedQueries.validated`, called by
  the schema's ``Guards`` extension, on every transport), as Apollo Server does: a broken
  document never stands behind a hash;
- safelist mode: only the documents of the start-up file run, by hash or by their exact text;
  anything else is ``PERSISTED_QUERY_NOT_IN_LIST`` (400), and nothing registers.

Documents are kept in an in-memory LRU bounded by count and by total bytes and, with
``GATEWAY_REDIS_URL``, in Redis too (under ``vodgw:apq:<sha256>``, for a day), so a document
registered on one replica is known to all. A document over ``GATEWAY_APQ_MAX_DOCUMENT_BYTES`` runs
but registers nowhere. Redis failing only makes a miss: the client then sends the document again.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis

from gateway.config.persisted import sha256_hex
from gateway.config.settings import Settings
from gateway.http.rejections import CodedRefusal, coded_error
from gateway.loading.redis_link import KEY_PREFIX, REDIS_FAILURES, RedisLink
from gateway.schema.errors import ErrorCode

SHARED_FOR = 24 * 3600  # seconds a document registered through Redis stays there
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def not_found() -> CodedRefusal:
    error = coded_error("PersistedQueryNotFound", ErrorCode.PERSISTED_QUERY_NOT_FOUND)
    return CodedRefusal(200, error, with_data=False)


def not_supported() -> CodedRefusal:
    error = coded_error("PersistedQueryNotSupported", ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED)
    return CodedRefusal(200, error, with_data=False)


def not_in_list() -> CodedRefusal:
    message = "This gateway runs only its registered operations (GATEWAY_PERSISTED_ONLY); this is not one"
    return CodedRefusal(400, coded_error(message, ErrorCode.PERSISTED_QUERY_NOT_IN_LIST))


def _bad(message: str, code: ErrorCode = ErrorCode.BAD_REQUEST) -> CodedRefusal:
    return CodedRefusal(400, coded_error(message, code))


class DocumentStore:
    """Documents by hash: an LRU of ``max_entries`` and ``max_bytes`` (their UTF-8 sizes) in memory,
    in front of Redis once shared; a document over ``max_document_bytes`` is kept in neither."""

    def __init__(self, max_entries: int, max_bytes: int = 2**62, max_document_bytes: int = 2**62) -> None:
        self._max, self._max_bytes, self._max_document = max_entries, max_bytes, max_document_bytes
        self._memory: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self.bytes = 0
        self._redis: aioredis.Redis | None = None
        self._link: RedisLink | None = None

    def share(self, link: RedisLink) -> None:
        """Also keep documents in the Redis behind ``link`` (the limiter's, with its degraded mode)."""
        self._redis, self._link = link.client, link

    def __len__(self) -> int:
        return len(self._memory)

    def __contains__(self, digest: object) -> bool:
        return digest in self._memory

    async def get(self, digest: str) -> str | None:
        kept = self._memory.get(digest)
        if kept is not None:
            self._memory.move_to_end(digest)
            return kept[0]
        if self._redis is None or not self._usable():
            return None
        try:
            raw = await self._redis.get(KEY_PREFIX + "apq:" + digest)
        except REDIS_FAILURES as exc:
            self._failed(exc)
            return None
        if raw is None:
            return None
        document = raw.decode() if isinstance(raw, bytes) else str(raw)
        if sha256_hex(document) != digest:  # not ours, or damaged: a miss
            return None
        self._remember(digest, document)
        return document

    async def put(self, digest: str, document: str) -> bool:
        """Keep ``document`` (False: it is over the size bound, and kept nowhere)."""
        encoded = document.encode()
        if len(encoded) > self._max_document:
            return False
        self._remember(digest, document)
        if self._redis is None or not self._usable():
            return True
        try:
            await self._redis.set(KEY_PREFIX + "apq:" + digest, encoded, ex=SHARED_FOR)
        except REDIS_FAILURES as exc:
            self._failed(exc)
        return True

    def _remember(self, digest: str, document: str) -> None:
        size = len(document.encode())
        if size > min(self._max_document, self._max_bytes):
            return
        previous = self._memory.pop(digest, None)
        if previous is not None:
            self.bytes -= previous[1]
        self._memory[digest] = (document, size)
        self.bytes += size
        while len(self._memory) > self._max or self.bytes > self._max_bytes:
            _, (_, dropped) = self._memory.popitem(last=False)
            self.bytes -= dropped

    def _usable(self) -> bool:
        if self._link is None:
            return True
        self._link.probe_if_due()
        return not self._link.degraded

    def _failed(self, exc: BaseException) -> None:
        if self._link is not None:
            self._link.failed(exc)


class PersistedQueries:
    """Turns a request's ``query`` and ``extensions`` into the document to run, or refuses it."""

    def __init__(self, settings: Settings, store: DocumentStore | None = None) -> None:
        self.enabled = settings.apq
        self.only = settings.persisted_only
        self.safelist: Mapping[str, str] = dict(settings.persisted_documents)
        self.store = store or DocumentStore(
            settings.apq_max_entries, settings.apq_max_bytes, settings.apq_max_document_bytes
        )

    async def document(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        """The document to run (``query`` itself, when there's no hash), or raise the refusal."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if self.only and query is not None and sha256_hex(query) not in self.safelist:
                raise not_in_list()
            return query
        digest = _digest_of(persisted)
        if self.only:
            known = self.safelist.get(digest)
            if known is None or (query is not None and query != known):
                raise not_in_list()
            return known
        if not self.enabled:
            raise not_supported()
        if query is None:  # the file's documents are known without a safelist too
            document = self.safelist.get(digest) or await self.store.get(digest)
            if document is None:
                raise not_found()
            return document
        if sha256_hex(query) != digest:
            raise _bad("provided sha does not match query", ErrorCode.BAD_USER_INPUT)
        return query  # registered once it has parsed and validated: validated()

    async def validated(self, query: str, extensions: Mapping[str, Any] | None) -> None:
        """``query`` parsed and validated: register it under its hash if the request brought both
        (a hash alone ran a document already known: nothing to do)."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None or self.only or not self.enabled:
            return
        try:
            digest = _digest_of(persisted)
        except CodedRefusal:
            return
        if digest in self.safelist or digest in self.store or sha256_hex(query) != digest:
            return
        await self.store.put(digest, query)


def _digest_of(persisted: object) -> str:
    if not isinstance(persisted, Mapping):
        raise _bad("extensions.persistedQuery must be an object: {version: 1, sha256Hash}")
    if persisted.get("version") != 1:
        raise _bad("Unsupported persisted query version: only version 1 is")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise _bad("extensions.persistedQuery.sha256Hash must be 64 hex digits (the document's SHA-256)")
    return digest.lower()
