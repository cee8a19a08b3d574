"""The gated listening socket: what an admitted connection looks like to asyncio."""

from __future__ import annotations

import socket

from gateway.http.connections import ConnectionGate, GatedSocket


def test_an_admitted_connection_has_nagle_off() -> None:
    # asyncio only turns Nagle off for sockets whose proto says TCP; without TCP_NODELAY a small
    # keep-alive answer waits for the client's delayed ACK
    listener = GatedSocket.listening("127.0.0.1", 0, ConnectionGate(10))
    client = socket.create_connection(listener.getsockname())
    try:
        listener.setblocking(True)
        conn, _ = listener.accept()
        with conn:
            assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        client.close()
        listener.close()
