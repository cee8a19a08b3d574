"""What the emulator saw: one record per call, for tests and benchmarks to assert on."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any, Literal

Outcome = Literal["ok", "throttled", "fault", "error"]


@dataclass(frozen=True)
class CallRecord:
    at: float  # the emulator clock's (monotonic) time at admission
    access_key_id: str | None
    video_ids: tuple[str, ...]
    outcome: Outcome
    code: str | None  # error code, or the fault kind
    status: int
    admitted: bool  # counted by the flow-control window
    signature: Literal["v1", "v3"] | None = None  # how the call was signed (tests check SDK settings)


class Stats:
    """Thread-safe: the server thread records while a test thread reads."""

    def __init__(self, max_records: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._records: deque[CallRecord] = deque(maxlen=max_records)
        self._outcomes: Counter[str] = Counter()
        self._codes: Counter[str] = Counter()
        self._admitted = 0

    def record(self, call: CallRecord) -> None:
        with self._lock:
            self._records.append(call)
            self._outcomes[call.outcome] += 1
            if call.code:
                self._codes[call.code] += 1
            self._admitted += call.admitted

    def reset(self) -> None:
        with self._lock:
            self._records.clear()
            self._outcomes.clear()
            self._codes.clear()
            self._admitted = 0

    @property
    def records(self) -> list[CallRecord]:
        with self._lock:
            return list(self._records)

    @property
    def calls(self) -> int:
        with self._lock:
            return sum(self._outcomes.values())

    @property
    def accepted(self) -> int:
        """Calls admitted by flow control (answered normally, with a fault, or a business error)."""
        with self._lock:
            return self._admitted

    @property
    def ok(self) -> int:
        return self._count("ok")

    @property
    def throttled(self) -> int:
        """Calls refused by flow control (spurious ``throttle`` faults are counted as faults)."""
        return self._count("throttled")

    @property
    def faults(self) -> int:
        return self._count("fault")

    @property
    def errors(self) -> int:
        return self._count("error")

    def _count(self, outcome: str) -> int:
        with self._lock:
            return self._outcomes[outcome]

    def codes(self) -> dict[str, int]:
        with self._lock:
            return dict(self._codes)

    def ids_per_call(self) -> list[tuple[str, ...]]:
        return [r.video_ids for r in self.records]

    def max_calls_in_any_window(self, window: float = 1.0) -> int:
        """The most admitted calls inside any interval ``(t - window, t]``."""
        times = sorted(r.at for r in self.records if r.admitted)
        best = first = 0
        for last, t in enumerate(times):
            while t - times[first] >= window:
                first += 1
            best = max(best, last - first + 1)
        return best

    def to_json(self, window: float = 1.0, detail: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "calls": self.calls,
            "accepted": self.accepted,
            "ok": self.ok,
            "throttled": self.throttled,
            "faults": self.faults,
            "errors": self.errors,
            "codes": self.codes(),
            "window": window,
            "max_calls_in_any_window": self.max_calls_in_any_window(window),
        }
        if detail:
            out["records"] = [{**asdict(r), "video_ids": list(r.video_ids)} for r in self.records]
        return out
