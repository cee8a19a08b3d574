"""Structured logging: one JSON object per line, carrying the request ID of the operation.

Log lines never carry a secret: the credential types hide their values, upstream bodies are never
logged, and :class:`JsonFormatter` only writes the fields it is given.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    def __init__(self, static: dict[str, object] | None = None) -> None:
        super().__init__()
        self._static = static or {}  # on every line: a worker's index under ``serve --workers``

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **self._static,
        }
        request_id = request_id_var.get()
        if request_id:
            entry["requestId"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:  # a bug somewhere: kept, inside the line, so it is never lost
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self, static: dict[str, object] | None = None) -> None:
        super().__init__()
        self._prefix = "".join(f"[{k} {v}] " for k, v in (static or {}).items())

    def format(self, record: logging.LogRecord) -> str:
        line = f"{self._prefix}{record.levelname:<7} {record.name}: {record.getMessage()}"
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        request_id = request_id_var.get()
        return f"{line} [{request_id}]" if request_id else line


def configure_logging(level: str = "INFO", json_lines: bool = True, worker: int | None = None) -> None:
    """The gateway's lines at ``level``; every other logger's (uvicorn's, websockets', asyncio's,
    Strawberry's rejected origins) at WARNING and up, in the same format: the root's handler, which
    they propagate to (uvicorn is started with ``log_config=None``, so it adds none of its own).
    ``worker``: a ``serve --workers`` worker's index, on each of its lines."""
    static: dict[str, object] = {} if worker is None else {"worker": worker}
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(static) if json_lines else TextFormatter(static))
    gateway = logging.getLogger("gateway")
    gateway.handlers[:] = [handler]
    gateway.setLevel(level)
    gateway.propagate = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # Strawberry logs every resolver error with its traceback; the gateway logs its own line instead.
    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)
