"""Flow control as the service applies it, and the replay guard for signature nonces."""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable

from gateway.clock import Clock


class SlidingWindowLimiter:
    """At most ``qps`` admitted calls per key in any window ``(t - window, t]``; 0 = unlimited.

    Refused calls are not recorded, so they never push the window further out.
    """

    def __init__(self, qps: int, clock: Clock, window: float = 1.0) -> None:
        self._qps = qps
        self._clock = clock
        self._window = window
        self._admitted: defaultdict[str, deque[float]] = defaultdict(deque)

    def try_acquire(self, key: str) -> bool:
        if self._qps <= 0:
            return True
        now = self._clock.now()
        recent = self._admitted[key]
        while recent and now - recent[0] >= self._window:
            recent.popleft()
        if len(recent) >= self._qps:
            return False
        recent.append(now)
        return True

    def reset(self) -> None:
        self._admitted.clear()


class NonceStore:
    """Remembers (key, nonce) pairs for ``ttl`` wall-clock seconds, holding at most ``max_entries``.

    The default ``ttl`` outlives the whole ±15 min timestamp tolerance, so a nonce cannot be replayed
    while its timestamp is still accepted; the cap bounds memory under a flood.
    """

    def __init__(self, wall: Callable[[], float], ttl: float = 31 * 60, max_entries: int = 250_000) -> None:
        self._wall = wall
        self._ttl = ttl
        self._max = max_entries
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def use(self, key: str, nonce: str) -> bool:
        """Record the nonce; False when it was already used within ``ttl``."""
        now = self._wall()
        while self._seen:
            oldest, expiry = next(iter(self._seen.items()))
            if expiry > now and len(self._seen) < self._max:
                break
            del self._seen[oldest]
        if (key, nonce) in self._seen:
            return False
        self._seen[(key, nonce)] = now + self._ttl
        return True
