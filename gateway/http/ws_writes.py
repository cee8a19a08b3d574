"""WebSocket frames written to the socket once per event-loop turn, not once per message.

uvicorn's WebSocket protocol writes each message to the transport as it is sent, and asyncio's
transport tries a ``send()`` for each write while its buffer is empty: twenty subscriptions on one
connection getting an event each in a poll round cost twenty syscalls (a cProfile of 3,000
subscriptions: 74,500 ``socket.send`` calls, 3.3 s of 23 s busy). :class:`CoalescedTransport` holds
the writes of one turn and hands them to the transport as one at the end of it (``call_soon``), so
they leave in one ``send()``; nothing waits longer than the turn that wrote it.

Everything else is the transport's: flow control (``pause_writing`` still comes from it, one turn
later at most), ``close`` (which writes what is held first), ``abort`` (which drops it).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class CoalescedTransport:
    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._held:
            self._loop.call_soon(self._flush)
        self._held.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def _flush(self) -> None:
        if not self._held:
            return
        held, self._held = self._held, []
        if not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._held.clear()
        self._transport.abort()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(chunk) for chunk in self._held)

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading, ...
        return getattr(self._transport, name)


class CoalescingWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol on a :class:`CoalescedTransport`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        coalesced = CoalescedTransport(transport, self.loop)  # type: ignore[arg-type]
        super().connection_made(coalesced)  # type: ignore[arg-type]
