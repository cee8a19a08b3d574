"""Standalone emulator: ``vod-gateway emulator`` (also ``python -m gateway.emulator``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

import uvicorn

from gateway.emulator.app import create_emulator_app
from gateway.emulator.banner import describe
from gateway.emulator.config import add_cli_arguments, config_from_args

PROG = "vod-gateway emulator"


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="A local ApsaraVideo VOD endpoint serving GetTranscodeSummary."
    )
    parser.add_argument(
        "--host", default=None, help="interface to bind (default 127.0.0.1) [env VOD_EMULATOR_HOST]"
    )
    parser.add_argument(
        "--port", default=None, help="port, 0 = any free one (default 9000) [env VOD_EMULATOR_PORT]"
    )
    add_cli_arguments(parser)
    return parser


def parse_port(flag: str | None, environ: Mapping[str, str]) -> int:
    """The port from ``--port`` or ``VOD_EMULATOR_PORT``; a bad one names where it came from."""
    raw, source = (
        (flag, "--port") if flag is not None else (environ.get("VOD_EMULATOR_PORT"), "VOD_EMULATOR_PORT")
    )
    if raw is None or not raw.strip():
        return 9000
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ValueError(f"{source}: expected a port 0-65535, got {raw!r}")
    return port


def run(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Parse ``argv``, print the banner and serve until interrupted; the exit status."""
    ns = build_parser(prog).parse_args(argv)
    host = ns.host or os.environ.get("VOD_EMULATOR_HOST") or "127.0.0.1"
    try:
        config = config_from_args(ns)
        port = parse_port(ns.port, os.environ)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    app = create_emulator_app(config)
    server_config = uvicorn.Config(
        app, host=host, port=port, loop="asyncio", lifespan="on", log_level="warning"
    )
    try:
        sock = server_config.bind_socket()  # bind first, so the banner shows the real port
    except SystemExit:
        return 1
    sock.listen(server_config.backlog)  # connections wait in the backlog until uvicorn serves, not refused
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    print(describe(config, app.state.emulator.catalogue, f"http://{shown_host}:{bound_port}"))
    sys.stdout.flush()
    uvicorn.Server(server_config).run(sockets=[sock])
    return 0
