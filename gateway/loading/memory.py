"""Memory given back once a crowd of subscriptions has gone.

Thousands of live subscriptions take their memory in small objects (tasks, generators, watches),
and closing them frees the objects but not the memory: the allocators keep it for the next ones.
:class:`MemoryReturn` looks every ``every`` seconds at the live subscriptions; once they are down
to half of their peak since the last look that gave back memory, and by at least ``least``, it
drops what only they needed (the ``on_release`` hooks: the shared events of ``schema/fanout.py``),
collects, and asks the C allocator to hand its free pages back to the system (glibc's
``malloc_trim(0)``; nothing where there is none). What must stay but was made during the crowd (the
summaries polled meanwhile, in the summary cache) is scattered among the freed memory and keeps its
pages: the ``rehome`` hooks copy it, now that the memory around is free, and the old copies go with
a second collection and trim. One log line says how much RSS that returned.

How much comes back depends on the allocator: with ``PYTHONMALLOC=malloc`` (the container image's)
glibc releases page by page; CPython's own (``pymalloc``) keeps an arena of 1 MiB while any object in
it lives. docs/benchmarks.md measures both.
"""

from __future__ import annotations

import asyncio
import contextvars
import ctypes
import ctypes.util
import gc
import logging
import os
from collections.abc import Callable
from pathlib import Path

from gateway.clock import Clock
from gateway.loading.tasks import stopped

log = logging.getLogger("gateway.memory")

EVERY = 5.0  # seconds between two looks at the live subscriptions
LEAST = 500  # subscriptions gone, at least, before memory is given back


def _malloc_trim() -> Callable[[], object] | None:
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc
        return None
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


def rss_kb() -> int:
    """This process's resident memory (Linux; 0 elsewhere)."""
    try:
        for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemoryReturn:
    def __init__(
        self,
        live: Callable[[], int],
        clock: Clock,
        *,
        every: float = EVERY,
        least: int = LEAST,
        trim: Callable[[], object] | None = _malloc_trim(),  # noqa: B008  (looked up once)
    ) -> None:
        self._live = live
        self._clock = clock
        self._every = every
        self._least = least
        self._trim = trim
        self._peak = 0
        self.on_release: list[Callable[[], None]] = []  # drop what only the subscriptions needed
        self.rehome: list[Callable[[], object]] = []  # then copy what must stay (the summary cache)
        self.releases = 0
        self._task: asyncio.Task[None] | None = None

    def look(self) -> bool:
        """One look: give memory back if the subscriptions are down far enough (True if it did)."""
        live = self._live()
        self._peak = max(self._peak, live)
        gone = self._peak - live
        if gone < self._least or live > self._peak // 2:
            return False
        before = rss_kb()
        for hook in self.on_release:
            hook()
        self._collect()
        if self.rehome:  # survivors made during the crowd, copied now that its memory is free
            for rehome in self.rehome:
                rehome()
            self._collect()
        self.releases += 1
        fields = {"subscriptions": live, "peak": self._peak, "rss_kb_before": before, "rss_kb": rss_kb()}
        log.info("memory given back after subscriptions closed", extra={"fields": fields})
        self._peak = live
        return True

    def _collect(self) -> None:
        gc.collect()
        if self._trim is not None:
            self._trim()

    def start(self) -> None:
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), context=contextvars.Context())

    async def _run(self) -> None:
        while True:
            await self._clock.sleep(self._every)
            try:
                self.look()
            except Exception as exc:  # a bug here must not stop the looking
                log.error("giving memory back failed: %s: %s", type(exc).__name__, exc)

    async def aclose(self) -> None:
        await stopped(self._task)
        self._task = None
