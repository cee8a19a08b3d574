"""The start-up banner's curl command, taken apart: run it with curl, or send the same request with httpx."""

from __future__ import annotations

import shlex


def curl_command(banner: str) -> list[str]:
    """The ``curl`` the banner prints, as a shell would split it after pasting."""
    text = banner.split("  try:\n", 1)[1].replace("\\\n", " ")
    return shlex.split(text)


def curl_body(argv: list[str]) -> tuple[str, dict[str, str], bytes]:
    assert argv[:2] == ["curl", "-s"] and argv[3] == "-H" and argv[5] == "-d", argv
    name, value = argv[4].split(": ", 1)
    return argv[2], {name: value}, argv[6].encode()
