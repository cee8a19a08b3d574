"""Alibaba Cloud credentials, with secrets that never show in a repr, a log or a traceback."""

from __future__ import annotations

from dataclasses import dataclass, field


class Secret:
    """A string that prints as ``'**********'``; call :meth:`reveal` where the value is needed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    access_key_secret: Secret = field(repr=False)
    security_token: Secret | None = field(default=None, repr=False)
