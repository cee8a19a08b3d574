"""Emulator knobs: one frozen dataclass, filled from CLI flags or ``VOD_EMULATOR_*`` variables.

A flag wins over its variable; a bad value raises :class:`ValueError` with one line naming the flag
or variable it came from. Secrets are never echoed back in those messages.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TypeVar

T = TypeVar("T")

DEMO_ACCESS_KEY_ID = "LTAI5tEmulatorDemoKey001"
DEMO_ACCESS_KEY_SECRET = "EmulatorDemoSecretNotForProd01"

# CLI spelling -> FaultRates field
FAULT_KINDS = {
    "5xx": "server_error",
    "hang": "hang",
    "garbage": "garbage",
    "reset": "reset",
    "throttle": "throttle",
}


@dataclass(frozen=True)
class AccessKey:
    """An accepted key pair; with ``security_token`` set, calls must carry exactly that token."""

    access_key_id: str
    secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)


DEMO_KEY = AccessKey(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)


@dataclass(frozen=True)
class FaultRates:
    """Probability per admitted call of each injected fault (they are exclusive; sum <= 1)."""

    server_error: float = 0.0
    hang: float = 0.0
    garbage: float = 0.0
    reset: float = 0.0
    throttle: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            p = getattr(self, f.name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"fault probability {f.name}={p} is outside 0..1")
        if self.total > 1.0 + 1e-9:
            raise ValueError(f"fault probabilities add up to {self.total:g}, more than 1")

    @property
    def total(self) -> float:
        return sum(p for _, p in self.items())

    def items(self) -> list[tuple[str, float]]:
        """(kind, probability) in a fixed order, so a seeded RNG picks the same faults."""
        return [(f.name, float(getattr(self, f.name))) for f in fields(self)]

    def describe(self) -> str:
        names = {v: k for k, v in FAULT_KINDS.items()}
        parts = [f"{names[k]}:{p:g}" for k, p in self.items() if p > 0]
        return ",".join(parts) or "none"


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes the emulator's behaviour; the defaults suit unit tests."""

    latency_ms: tuple[float, float] = (0.0, 0.0)
    faults: FaultRates = field(default_factory=FaultRates)
    qps: int = 15
    catalogue_size: int = 5000
    seed: int = 1
    keys: tuple[AccessKey, ...] = field(default=(DEMO_KEY,), repr=False)
    hang_seconds: float = 120.0
    callback_url: str | None = None  # where to POST event callbacks (callbacks.py); None: none sent
    callback_key: str | None = field(default=None, repr=False)  # the AuthKey that signs them
    callback_loss: float = 0.0
    callback_duplicate: float = 0.0
    callback_delay: float = 0.0

    def __post_init__(self) -> None:
        lo, hi = self.latency_ms
        if not 0 <= lo <= hi:
            raise ValueError(f"latency range {lo:g}-{hi:g} ms is not valid")
        if self.qps < 0:
            raise ValueError("qps must be >= 0 (0 means unlimited)")
        if self.catalogue_size < 0:
            raise ValueError("catalogue size must be >= 0")
        if not self.keys:
            raise ValueError("at least one access key is required")
        if self.hang_seconds < 0:
            raise ValueError("hang_seconds must be >= 0")
        if self.callback_url is not None and not self.callback_key:
            raise ValueError("a callback URL needs a callback key (--callback-key)")

    def key(self, access_key_id: str) -> AccessKey | None:
        return next((k for k in self.keys if k.access_key_id == access_key_id), None)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> EmulatorConfig:
        """Build a config from ``VOD_EMULATOR_*`` variables alone."""
        return config_from_args(argparse.Namespace(), environ)


# ---- parsing ----------------------------------------------------------------------------------


def parse_latency(text: str) -> tuple[float, float]:
    """``"20-60"`` (a range in ms) or ``"30"`` (fixed)."""
    lo_text, sep, hi_text = text.strip().partition("-")
    lo = float(lo_text)
    hi = float(hi_text) if sep else lo
    if not 0 <= lo <= hi or hi == float("inf"):
        raise ValueError
    return lo, hi


def parse_faults(text: str) -> FaultRates:
    """``"5xx:0.1,hang:0.02,garbage:0.05,reset:0.01,throttle:0.05"``; ``""``/``"none"`` for none."""
    if text.strip().lower() in ("", "none", "0"):
        return FaultRates()
    rates: dict[str, float] = {}
    for part in text.split(","):
        kind, sep, value = part.strip().partition(":")
        if not sep or kind.strip() not in FAULT_KINDS:
            raise ValueError
        rates[FAULT_KINDS[kind.strip()]] = float(value)
    return FaultRates(**rates)


def parse_keys(text: str) -> tuple[AccessKey, ...]:
    """``"id:secret[:sts-token],id:secret"``."""
    keys = []
    for part in text.split(","):
        pieces = part.strip().split(":", 2)
        if len(pieces) < 2 or not pieces[0] or not pieces[1]:
            raise ValueError
        token = pieces[2] if len(pieces) == 3 and pieces[2] else None
        keys.append(AccessKey(pieces[0], pieces[1], token))
    if not keys:
        raise ValueError
    return tuple(keys)


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError
    return value


def _callback_url(text: str) -> str:
    if not text.strip().startswith(("http://", "https://")):
        raise ValueError
    return text.strip()


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError
    return value


@dataclass(frozen=True)
class _Knob:
    dest: str
    flag: str
    env: str
    parse: Callable[[str], object]
    expected: str
    help: str
    secret: bool = False


_KNOBS = (
    _Knob("latency_ms", "--latency", "VOD_EMULATOR_LATENCY", parse_latency,
          "milliseconds, 'LO-HI' or 'MS'", "added latency before admission, ms (default 0)"),
    _Knob("faults", "--faults", "VOD_EMULATOR_FAULTS", parse_faults,
          "'kind:probability,...' with kinds 5xx, hang, garbage, reset, throttle and a sum <= 1",
          "fault probabilities, e.g. 5xx:0.1,hang:0.02 (default none)"),
    _Knob("qps", "--qps", "VOD_EMULATOR_QPS", _non_negative_int,
          "a non-negative integer", "accepted calls per second per AccessKeyId, 0 = unlimited "
          "(default 15)"),
    _Knob("catalogue_size", "--catalogue", "VOD_EMULATOR_CATALOGUE", _non_negative_int,
          "a non-negative integer", "number of seeded videos (default 5000)"),
    _Knob("seed", "--seed", "VOD_EMULATOR_SEED", int, "an integer",
          "seed of the catalogue, latency and fault RNGs (default 1)"),
    _Knob("keys", "--keys", "VOD_EMULATOR_KEYS", parse_keys,
          "'id:secret[:token]' pairs separated by commas",
          "accepted key pairs id:secret[:sts-token],... (default: the demo pair)", secret=True),
    _Knob("callback_url", "--callback-url", "VOD_EMULATOR_CALLBACK_URL", _callback_url, "an http(s) URL",
          "POST signed StreamTranscodeComplete and TranscodeComplete events here (default: none)"),
    _Knob("callback_key", "--callback-key", "VOD_EMULATOR_CALLBACK_KEY", str, "a string",
          "the AuthKey that signs the callbacks", secret=True),
    _Knob("callback_loss", "--callback-loss", "VOD_EMULATOR_CALLBACK_LOSS", _probability,
          "a probability 0..1", "share of events never delivered (default 0)"),
    _Knob("callback_duplicate", "--callback-duplicate", "VOD_EMULATOR_CALLBACK_DUPLICATE", _probability,
          "a probability 0..1", "share of events delivered twice (default 0)"),
    _Knob("callback_delay", "--callback-delay", "VOD_EMULATOR_CALLBACK_DELAY", float, "seconds",
          "seconds before an event's first attempt (default 0)"),
)  # fmt: skip


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's flags (each also read from its ``VOD_EMULATOR_*`` variable)."""
    group = parser.add_argument_group("emulator")
    for knob in _KNOBS:
        group.add_argument(
            knob.flag, dest=f"emulator_{knob.dest}", default=None, metavar=knob.dest.upper(),
            help=f"{knob.help} [env {knob.env}]",
        )  # fmt: skip


def config_from_args(ns: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> EmulatorConfig:
    """Merge parsed flags over ``VOD_EMULATOR_*`` variables over the defaults."""
    values: dict[str, object] = {}
    for knob in _KNOBS:
        raw = getattr(ns, f"emulator_{knob.dest}", None)
        source = knob.flag
        if raw is None:
            raw, source = environ.get(knob.env), knob.env
        if raw is None or not str(raw).strip():
            continue
        try:
            values[knob.dest] = knob.parse(str(raw))
        except ValueError as exc:
            shown = "" if knob.secret else f", got {raw!r}"
            detail = f" ({exc})" if str(exc) and not knob.secret else ""
            raise ValueError(f"{source}: expected {knob.expected}{shown}{detail}") from None
    try:
        return EmulatorConfig(**values)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(f"emulator configuration: {exc}") from None
