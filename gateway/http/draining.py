"""The drain before a shutdown: from SIGTERM on, ``/readyz`` answers 503 so that a load balancer
(a Kubernetes Service's endpoints) stops sending, while the gateway goes on serving for
``GATEWAY_SHUTDOWN_DRAIN`` seconds and then finishes what is in flight (``http/server.py``)."""

from __future__ import annotations


class Draining:
    """Set once, by the server's signal handler; read by ``/readyz``."""

    def __init__(self) -> None:
        self.active = False

    def begin(self) -> None:
        self.active = True
