"""The per-request context: one set of DataLoaders per operation, sharing the gateway's parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiodataloader import DataLoader
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from gateway.settings import Settings


@dataclass
class Context:
    request: Request | WebSocket | None
    response: Response | WebSocket | None
    settings: Settings
    summaries: DataLoader[str, Any]
