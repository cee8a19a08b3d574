"""The summary cache shared by every replica through Redis (the same TTL rules as MemoryCache).

A cache failure never fails a lookup: a read that fails, or that runs while Redis is known to be
down, is a miss; a write that fails is dropped. Both are counted through ``on_error`` and reported
to the :class:`~gateway.loading.redis_limiter.RedisLink`, which puts the gateway in degraded mode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import redis.asyncio as aioredis

from gateway.loading import codec
from gateway.loading.cache import CacheTTLs, Outcome
from gateway.loading.redis_link import KEY_PREFIX, REDIS_FAILURES, RedisLink


class RedisCache:
    """Outcomes as compact JSON under ``<prefix>summary:<format>:<AccessKeyId>:<videoId>``,
    expiring by PX. The AccessKeyId keeps gateways of different accounts (or RAM users with
    different permissions) that share one Redis from answering each other's lookups."""

    def __init__(
        self,
        client: aioredis.Redis,
        ttls: CacheTTLs,
        *,
        account: str,
        link: RedisLink | None = None,
        prefix: str = KEY_PREFIX,
        on_error: Callable[[str, int], None] | None = None,
    ) -> None:
        self._client = client
        self._ttls = ttls
        self._link = link
        self._prefix = f"{prefix}summary:{codec.FORMAT}:{account}:"
        self._on_error = on_error

    def key(self, video_id: str) -> str:
        return self._prefix + video_id

    async def get_many(self, ids: Sequence[str]) -> dict[str, Outcome]:
        wanted = list(dict.fromkeys(ids))
        if not wanted or not await self._usable():
            self._failed("get", len(wanted))
            return {}
        try:
            values = await self._client.mget([self.key(i) for i in wanted])
        except REDIS_FAILURES as exc:
            self._failed("get", len(wanted), exc)
            return {}
        found: dict[str, Outcome] = {}
        unreadable = 0
        for video_id, value in zip(wanted, values, strict=True):
            if value is None:
                continue
            outcome = codec.decode(value)
            if outcome is None:
                unreadable += 1
            else:
                found[video_id] = outcome
        if unreadable:
            self._failed("decode", unreadable)
        return found

    async def put_many(self, outcomes: Mapping[str, Outcome]) -> None:
        entries: list[tuple[str, bytes, int]] = []
        for video_id, outcome in outcomes.items():
            ttl_ms = round(self._ttls.ttl_for(outcome) * 1000)
            data = codec.encode(outcome) if ttl_ms > 0 else None
            if data is not None:
                entries.append((self.key(video_id), data, ttl_ms))
        if not entries or not await self._usable():
            return
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for key, data, ttl_ms in entries:
                    pipe.set(key, data, px=ttl_ms)
                await pipe.execute()
        except REDIS_FAILURES as exc:
            self._failed("put", len(entries), exc)

    async def forget(self, ids: Sequence[str]) -> None:
        """Drop ``ids`` (a VOD callback said they changed); a failure is counted and dropped."""
        if not ids or not await self._usable():
            return
        try:
            await self._client.delete(*(self.key(i) for i in ids))
        except REDIS_FAILURES as exc:
            self._failed("forget", len(ids), exc)

    async def _usable(self) -> bool:
        if self._link is None:
            return True
        self._link.probe_if_due()
        return not self._link.degraded

    def _failed(self, op: str, n: int, exc: BaseException | None = None) -> None:
        if exc is not None and self._link is not None:
            self._link.failed(exc)
        if self._on_error is not None and n:
            self._on_error(op, n)
