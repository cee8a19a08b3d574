"""Writing answers straight to ASGI ``send``: JSON as the service shapes it, and raw text."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Send

from gateway.emulator.errors import ApiError, error_body

JSON_TYPE = "application/json;charset=utf-8"


async def send_text(
    send: Send, status: int, body: str, content_type: str, request_id: str | None = None
) -> None:
    data = body.encode()
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(data)).encode()),
    ]
    if request_id:
        headers.append((b"x-acs-request-id", request_id.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data, "more_body": False})


async def send_json(send: Send, status: int, payload: dict[str, Any], request_id: str) -> None:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    await send_text(send, status, text, JSON_TYPE, request_id)


async def send_error(send: Send, error: ApiError, request_id: str, host_id: str) -> None:
    body = error_body(error.code, error.message, request_id, host_id)
    await send_json(send, error.status, body, request_id)
