"""VOD callbacks shared between replicas over Redis pub/sub: a replica that acted on a callback
publishes the video IDs, and every other replica acts on them for its own subscribers and caches.

The summary cache is on Redis already, so a replica that refetched has refreshed it for everyone;
the others read the answer from there instead of asking the upstream again (``refetch.py``).
Pub/sub is best effort, as callbacks are: a message lost while Redis is down leaves the poller to
reconcile. The subscription reconnects on its own after a failure, once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence

import orjson
import redis.asyncio as aioredis

from gateway.clock import Clock
from gateway.loading.redis_link import KEY_PREFIX, REDIS_FAILURES
from gateway.loading.tasks import stopped
from gateway.vod.credentials import Secret

log = logging.getLogger("gateway.redis")

Remote = Callable[[list[str]], Awaitable[None]]
RETRY = 1.0  # seconds before subscribing again after a failure


def channel_of(account: str) -> str:
    return f"{KEY_PREFIX}callbacks:v1:{account}"


class CallbackFanout:
    def __init__(self, url: Secret, account: str, clock: Clock, connect_timeout: float) -> None:
        # its own client: a subscription waits for messages, which the short read deadline of the
        # limiter's client would cut off
        self._client = aioredis.Redis.from_url(url.reveal(), socket_connect_timeout=connect_timeout)
        self._publisher = aioredis.Redis.from_url(
            url.reveal(), socket_timeout=connect_timeout, socket_connect_timeout=connect_timeout
        )
        self._channel = channel_of(account)
        self._clock = clock
        self._origin = secrets.token_hex(8)  # its own messages come back to it: they are skipped
        self._task: asyncio.Task[None] | None = None
        self._remote: Remote | None = None
        self.subscribed = asyncio.Event()
        self.published = 0
        self.received = 0

    def start(self, remote: Remote) -> None:
        self._remote = remote
        self._task = asyncio.get_running_loop().create_task(self._listen(), context=contextvars.Context())

    async def publish(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        try:
            await self._publisher.publish(
                self._channel, orjson.dumps({"origin": self._origin, "ids": list(ids)})
            )
            self.published += 1
        except REDIS_FAILURES as exc:  # the others' pollers reconcile
            log.warning("callback fan-out: publish failed (%s)", type(exc).__name__)

    async def _listen(self) -> None:
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                self.subscribed.set()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None:
                        await self._handle(message.get("data"))
            except REDIS_FAILURES as exc:
                self.subscribed.clear()
                log.warning("callback fan-out: subscription lost (%s); subscribing again", type(exc).__name__)
            finally:
                with contextlib.suppress(*REDIS_FAILURES):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await self._clock.sleep(RETRY)

    async def _handle(self, data: object) -> None:
        try:
            body = orjson.loads(data) if isinstance(data, bytes | str) else None
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or body.get("origin") == self._origin:
            return
        ids = [i for i in body.get("ids", ()) if isinstance(i, str)]
        if ids and self._remote is not None:
            self.received += 1
            try:
                await self._remote(ids)
            except Exception as exc:  # a bug: the poller still reconciles; keep listening
                log.error("callback fan-out failed unexpectedly: %s: %s", type(exc).__name__, exc)

    async def aclose(self) -> None:
        await stopped(self._task)
        await self._client.aclose()
        await self._publisher.aclose()
