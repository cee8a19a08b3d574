"""Run any ASGI app with uvicorn in a background thread, for tests over real loopback HTTP."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import uvicorn


class ThreadedServer:
    """A uvicorn server on its own event loop in a daemon thread; a context manager.

    ``port=0`` picks a free port; ``.port`` and ``.url`` tell which once started. Stopping asks
    uvicorn to exit and joins the thread; requests still open after ``graceful_timeout`` seconds
    are cut off, so a hanging handler cannot block a test run.
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        startup_timeout: float = 10.0,
        graceful_timeout: int = 2,
    ) -> None:
        self._config = uvicorn.Config(
            app,
            host=host,
            port=port,
            loop="asyncio",
            lifespan="on",
            log_level="warning",
            http="httptools",
            timeout_graceful_shutdown=graceful_timeout,
        )
        self._server = uvicorn.Server(self._config)
        self._host = host
        self._startup_timeout = startup_timeout
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._failure: BaseException | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not running")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the server was already started")
        self._thread = threading.Thread(target=self._run, name="uvicorn", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                self._thread = None
                raise RuntimeError("the server failed to start (see its log)") from self._failure
            if time.monotonic() > deadline:
                self._server.should_exit = True
                raise RuntimeError(f"the server did not start within {self._startup_timeout} s")
            time.sleep(0.005)
        self._port = self._server.servers[0].sockets[0].getsockname()[1]

    def _run(self) -> None:
        try:
            self._server.run()
        except BaseException as exc:  # uvicorn exits with SystemExit when start-up fails
            self._failure = exc

    def stop(self) -> None:
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join()
        self._thread = None
        self._port = None

    def __enter__(self) -> ThreadedServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
