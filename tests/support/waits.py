"""Waiting for something outside the test's own event loop (a process, a socket, a thread): poll a
condition until it holds or a deadline passes. The only place a test's wait touches the wall clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

POLL = 0.02  # seconds between two looks at the condition


class NeverHappened(AssertionError):
    """The condition still did not hold at the deadline."""


def eventually(
    condition: Callable[[], T],
    timeout: float,
    what: str = "",
    *,
    detail: Callable[[], str] | None = None,
) -> T:
    """The first truthy value of ``condition()``, polled until ``timeout`` seconds have passed.

    Raises :class:`NeverHappened` naming ``what`` (and ``detail()``, if given, such as a log's tail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            message = f"not within {timeout} s: {what or getattr(condition, '__name__', 'the condition')}"
            raise NeverHappened(message + (f"\n{detail()}" if detail is not None else ""))
        time.sleep(POLL)


async def eventually_async(condition: Callable[[], T | Awaitable[T]], timeout: float, what: str = "") -> T:
    """:func:`eventually` for a test on an event loop: the condition may be a coroutine function,
    and the loop keeps running (other tasks, servers in this loop) between two looks."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise NeverHappened(
                f"not within {timeout} s: {what or getattr(condition, '__name__', 'the condition')}"
            )
        await asyncio.sleep(POLL)
