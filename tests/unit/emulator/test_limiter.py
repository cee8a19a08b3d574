from __future__ import annotations

from gateway.emulator.limiter import NonceStore, SlidingWindowLimiter
from gateway.emulator.stats import CallRecord, Stats
from tests.support.clock import ManualClock


async def test_window_is_strict_and_refusals_do_not_count() -> None:
    clock = ManualClock()
    limiter = SlidingWindowLimiter(3, clock)
    assert [limiter.try_acquire("k") for _ in range(5)] == [True, True, True, False, False]
    await clock.advance(0.5)
    assert not limiter.try_acquire("k")
    await clock.advance(0.5)  # exactly 1 s later: the first three left the window (t-1, t]
    assert [limiter.try_acquire("k") for _ in range(4)] == [True, True, True, False]


def test_keys_have_their_own_windows() -> None:
    limiter = SlidingWindowLimiter(1, ManualClock())
    assert limiter.try_acquire("a") and limiter.try_acquire("b")
    assert not limiter.try_acquire("a")
    limiter.reset()
    assert limiter.try_acquire("a")


def test_zero_means_unlimited() -> None:
    limiter = SlidingWindowLimiter(0, ManualClock())
    assert all(limiter.try_acquire("k") for _ in range(1000))


def test_nonces_are_remembered_per_key_until_they_expire() -> None:
    now = [0.0]
    store = NonceStore(lambda: now[0], ttl=100)
    assert store.use("k", "n")
    assert not store.use("k", "n")
    assert store.use("other", "n")
    now[0] = 99
    assert not store.use("k", "n")
    now[0] = 100.5
    assert store.use("k", "n")


def test_nonce_memory_is_bounded() -> None:
    store = NonceStore(lambda: 0.0, max_entries=10)
    for i in range(100):
        assert store.use("k", str(i))
    assert len(store) <= 10


def record(at: float, admitted: bool = True) -> CallRecord:
    return CallRecord(at, "k", ("id",), "ok" if admitted else "throttled", None, 200, admitted)


def test_max_calls_in_any_window() -> None:
    stats = Stats()
    assert stats.max_calls_in_any_window() == 0
    for at in (0.0, 0.2, 0.9, 1.0, 1.1, 1.15):
        stats.record(record(at))
    stats.record(record(1.12, admitted=False))
    # (0.15, 1.15] holds 0.2, 0.9, 1.0, 1.1, 1.15; 0.0 and 1.0 are never in the same window
    assert stats.max_calls_in_any_window() == 5
    assert stats.max_calls_in_any_window(0.3) == 4
    assert stats.accepted == 6 and stats.throttled == 1 and stats.calls == 7
    assert stats.ids_per_call() == [("id",)] * 7
    stats.reset()
    assert stats.calls == 0 and stats.records == []
