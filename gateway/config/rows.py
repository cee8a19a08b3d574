"""A setting's row (:class:`Row`), how its text is read (:func:`value_of`), and the one error a
bad value makes (:class:`SettingsError`); the rows themselves are in ``settings.py``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.config import casts


class SettingsError(ValueError):
    """A configuration problem, worded as the one line to print before exiting."""


@dataclass(frozen=True)
class Row:
    """One environment variable: the :class:`Settings` field it fills, how, and its README line."""

    group: str  # the README table it is listed in
    attr: str | None  # None: not a field of its own, another row's reader reads it
    variable: str
    cast: Callable[[str], object]  # raises ValueError for a bad value
    default: object  # when the variable is unset or blank
    expected: str  # ends the error for a bad value: "... is not valid: expected <expected>"
    meaning: str
    read: Callable[[Mapping[str, str]], object] | None = None  # reads several variables, or defaults from one
    shown_default: str | None = None  # for the README, when the default value alone would mislead


def value_of(env: Mapping[str, str], row: Row) -> object:
    raw = env.get(row.variable)
    if raw is None or raw.strip() == "":
        return row.default
    try:
        return row.cast(raw.strip())
    except ValueError:
        raise SettingsError(
            f"{row.variable}={casts.shown(raw)!r} is not valid: expected {row.expected}"
        ) from None
