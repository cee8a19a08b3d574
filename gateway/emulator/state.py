"""Everything one emulator instance holds, reachable as ``app.state.emulator``."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.clock import Clock
from gateway.emulator.auth import Verifier
from gateway.emulator.callbacks import CallbackConfig, CallbackSender
from gateway.emulator.catalogue import Catalogue
from gateway.emulator.config import EmulatorConfig
from gateway.emulator.faults import FaultInjector
from gateway.emulator.limiter import NonceStore, SlidingWindowLimiter
from gateway.emulator.stats import Stats


@dataclass
class EmulatorState:
    config: EmulatorConfig
    clock: Clock
    catalogue: Catalogue
    stats: Stats
    limiter: SlidingWindowLimiter
    nonces: NonceStore
    verifier: Verifier
    faults: FaultInjector
    latency_rng: random.Random
    callbacks: CallbackSender | None = None

    def send_callbacks(self, config: CallbackConfig, wall: Callable[[], float] = time.time) -> CallbackSender:
        """Start delivering event callbacks (the app's lifespan, or ``serve --emulator`` once it
        knows its own URL)."""
        if self.callbacks is not None:
            raise RuntimeError("callbacks are already being sent")
        self.callbacks = CallbackSender(config, self.catalogue, self.clock, self.config.seed, wall)
        self.callbacks.start()
        return self.callbacks

    @classmethod
    def build(
        cls,
        config: EmulatorConfig,
        clock: Clock,
        wall: Callable[[], float] = time.time,
        anchor: float | None = None,
    ) -> EmulatorState:
        nonces = NonceStore(wall)
        return cls(
            config=config,
            clock=clock,
            catalogue=Catalogue.generate(config.catalogue_size, config.seed, clock, anchor),
            stats=Stats(),
            limiter=SlidingWindowLimiter(config.qps, clock),
            nonces=nonces,
            verifier=Verifier(config, nonces, wall),
            faults=FaultInjector(
                config.faults, random.Random(f"faults:{config.seed}"), clock, config.hang_seconds
            ),
            latency_rng=random.Random(f"latency:{config.seed}"),
        )

    def latency(self) -> float:
        """Seconds of latency for the next call (0 when none is configured)."""
        lo, hi = self.config.latency_ms
        return (lo if lo == hi else self.latency_rng.uniform(lo, hi)) / 1000.0

    def advance(self, seconds: float) -> None:
        """Move emulated catalogue time forward."""
        self.catalogue.advance(seconds)

    def reset(self) -> None:
        """Forget recorded calls and flow-control windows (not nonces, not emulated time)."""
        self.stats.reset()
        self.limiter.reset()

    def sample_ids(self, per_status: int = 3) -> dict[str, list[str]]:
        return self.catalogue.sample_ids(per_status)
