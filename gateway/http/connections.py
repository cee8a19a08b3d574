"""The total connection cap, enforced at ``accept()``: descriptors never run out, whatever
``ulimit -n`` is.

uvicorn's ``limit_concurrency`` answers 503 only once a request arrives, and counts tasks too; idle
connections past it still hold descriptors, and at the process's limit asyncio's accept loop logs
"socket.accept() out of system resource" once per pending connection, every tick. Here the
listening socket itself (:class:`GatedSocket`) answers a connection past the cap with a 503 and
closes it before asyncio sees it, and logs one line per ``LOG_EVERY`` seconds with the count. If
the descriptors run out anyway (another part of the process used them), a spare descriptor kept
for the purpose is freed to accept and refuse the pending connection, as nginx and libuv do.

The default cap is the soft ``RLIMIT_NOFILE`` less a reserve for everything else (the upstream
pool of 64, Redis, the log, the listener, the event loop): ``config/connections.py``.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import time
from collections.abc import Collection

from gateway.http.protocol import Refusal, response_bytes
from gateway.schema.errors import ErrorCode

log = logging.getLogger("gateway.edge")

LOG_EVERY = 10.0  # seconds between two log lines about refused connections
_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


class ConnectionGate:
    """Counts the open connections (uvicorn's set of live protocols, plus those accepted and not
    yet set up) against ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._connections: Collection[object] = ()
        self._pending = 0
        self._refused = 0
        self._since = 0.0
        self._next_line = 0.0
        self.answer = response_bytes(
            Refusal(
                503,
                f"Too many connections: at most {limit} at once (GATEWAY_MAX_CONNECTIONS); retry shortly",
                ErrorCode.RATE_LIMITED,
            ),
            (("retry-after", "1"),),
        )

    @property
    def open(self) -> int:
        return len(self._connections) + self._pending

    def made(self, protocol: object) -> None:
        """A protocol's ``connection_made``: the accepted connection is now in uvicorn's set."""
        connections = getattr(getattr(protocol, "server_state", None), "connections", None)
        if connections is not None:
            self._connections = connections
        self._pending = max(0, self._pending - 1)

    def admit(self) -> bool:
        if self.open >= self.limit:
            return False
        self._pending += 1
        return True

    def refused(self, reason: str = "connection cap") -> None:
        """Count a refused connection; one log line now and then, never one per connection."""
        now = time.monotonic()
        self._refused += 1
        if self._since == 0.0:
            self._since = now
        if now >= self._next_line:
            fields = {"refused": self._refused, "seconds": round(now - self._since, 1), "reason": reason}
            fields.update(limit=self.limit, open=self.open)
            log.warning("connections refused: 503", extra={"fields": fields})
            self._refused, self._since, self._next_line = 0, now, now + LOG_EVERY


def _turn_away(conn: socket.socket, answer: bytes) -> None:
    """Answer a connection we won't serve, without waiting on it: read what it sent already (so
    the close is not a reset), write the 503, close."""
    try:
        conn.setblocking(False)
        try:
            conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            pass
        conn.send(answer)
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        conn.close()


class GatedSocket(socket.socket):
    """A listening socket whose ``accept()`` (which asyncio calls) turns away what the gate refuses."""

    gate: ConnectionGate
    _spare: int = -1
    _shared = False  # inherited by the workers of ``serve --workers``: one accept per wakeup
    _took = False

    @classmethod
    def listening(cls, host: str, port: int, gate: ConnectionGate, backlog: int = 2048) -> GatedSocket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = cls(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        return sock._gated(gate)

    @classmethod
    def inherited(cls, fd: int, gate: ConnectionGate) -> GatedSocket:
        """A listening socket a supervisor bound and handed down (``serve --workers``). Every
        worker's loop wakes when connections wait, and asyncio would take up to its backlog in one
        go: the first awake would take a burst of connections all. So each takes one per wakeup
        and leaves the rest to its siblings (the socket stays readable, so it wakes again)."""
        sock = cls(fileno=fd)._gated(gate)
        sock._shared = True
        return sock

    def _gated(self, gate: ConnectionGate) -> GatedSocket:
        self.setblocking(False)
        self.gate = gate
        self._spare = os.open(os.devnull, os.O_RDONLY)
        return self

    def accept(self) -> tuple[socket.socket, object]:
        if self._took:  # a shared socket that gave this worker its one connection of this wakeup
            self._took = False
            raise BlockingIOError(errno.EAGAIN, "the other workers' turn")
        while True:
            try:
                fd, address = self._accept()  # type: ignore[attr-defined]
            except OSError as exc:
                if exc.errno not in _OUT_OF_DESCRIPTORS:
                    raise
                self._refuse_with_spare()
                raise BlockingIOError(errno.EAGAIN, "no descriptor left") from None
            conn = socket.socket(self.family, self.type, self.proto, fileno=fd)
            if self.gate.admit():
                conn.setblocking(False)
                # asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and this one's is
                # 0: without it, a keep-alive answer waits ~40 ms for the client's delayed ACK
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._took = self._shared
                return conn, address
            _turn_away(conn, self.gate.answer)
            self.gate.refused()

    def _refuse_with_spare(self) -> None:
        self.gate.refused("out of descriptors")
        if self._spare < 0:
            return
        os.close(self._spare)
        self._spare = -1
        try:
            fd, _ = self._accept()  # type: ignore[attr-defined]
            _turn_away(socket.socket(self.family, self.type, self.proto, fileno=fd), self.gate.answer)
        except OSError:
            pass
        finally:
            try:
                self._spare = os.open(os.devnull, os.O_RDONLY)
            except OSError:
                self._spare = -1

    def close(self) -> None:
        if self._spare >= 0:
            os.close(self._spare)
            self._spare = -1
        super().close()
