"""``/metrics`` under ``serve --workers``: every worker's metrics, whichever worker a scrape reaches.

Each worker answers its own exposition on a Unix socket in a directory its supervisor made
(``<dir>/<index>.sock``). The worker a scrape reaches reads every sibling's (its own included),
adds a ``worker`` label to each sample and answers them together; a worker that is gone (its socket
refuses) is left out until it is started again. Sum over ``worker`` for the process-wide figures.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

READ_TIMEOUT = 2.0  # seconds one sibling may take to answer


class WorkerMetrics:
    def __init__(self, directory: Path, index: int, registry: CollectorRegistry) -> None:
        self._directory = directory
        self._path = directory / f"{index}.sock"
        self._registry = registry
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self._path.unlink(missing_ok=True)  # a socket left by this slot's previous (killed) worker
        self._server = await asyncio.start_unix_server(self._answer, path=str(self._path))

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._path.unlink(missing_ok=True)

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(generate_latest(self._registry))
            await writer.drain()
        finally:
            writer.close()

    async def exposition(self) -> bytes:
        """Every live worker's samples, each with its ``worker`` label, in the text format."""
        texts: dict[str, str] = {}
        for path in sorted(self._directory.glob("*.sock")):
            text = await _read(path)
            if text is not None:
                texts[path.stem] = text
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Labelled(texts))
        return generate_latest(registry)


async def _read(path: Path) -> str | None:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), READ_TIMEOUT)
    except (OSError, TimeoutError):
        return None  # gone: its supervisor starts it again
    try:
        return (await asyncio.wait_for(reader.read(), READ_TIMEOUT)).decode()
    except (OSError, TimeoutError):
        return None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


class _Labelled(Collector):
    def __init__(self, texts: dict[str, str]) -> None:
        self._texts = texts

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for worker, text in sorted(self._texts.items(), key=lambda item: int(item[0])):
            for family in text_string_to_metric_families(text):
                merged = families.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type, family.unit)
                )
                merged.samples += [
                    Sample(s.name, {**s.labels, "worker": worker}, s.value, s.timestamp, s.exemplar)
                    for s in family.samples
                ]
        yield from families.values()
