"""The one error start-up reports about configuration."""

from __future__ import annotations


class SettingsError(ValueError):
    """A configuration problem, worded as the one line to print before exiting."""
