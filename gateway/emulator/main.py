"""Standalone emulator: ``python -m gateway.emulator`` (also ``vod-gateway emulator``)."""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from gateway.emulator.app import create_emulator_app
from gateway.emulator.banner import describe
from gateway.emulator.config import add_cli_arguments, config_from_args


def build_parser(prog: str = "python -m gateway.emulator") -> argparse.ArgumentParser:
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


def run(argv: list[str] | None = None) -> int:
    """Parse ``argv``, print the banner and serve until interrupted; the exit status."""
    parser = build_parser()
    ns = parser.parse_args(argv)
    host = ns.host or os.environ.get("VOD_EMULATOR_HOST") or "127.0.0.1"
    port_text = ns.port or os.environ.get("VOD_EMULATOR_PORT") or "9000"
    try:
        config = config_from_args(ns)
        port = int(port_text)
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError as exc:
        message = str(exc) or f"--port / VOD_EMULATOR_PORT: expected 0-65535, got {port_text!r}"
        print(f"error: {message}", file=sys.stderr)
        return 2

    app = create_emulator_app(config)
    server_config = uvicorn.Config(
        app, host=host, port=port, loop="asyncio", lifespan="on", log_level="warning"
    )
    try:
        sock = server_config.bind_socket()  # bind first, so the banner shows the real port
    except SystemExit:
        return 1
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    print(describe(config, app.state.emulator.catalogue, f"http://{shown_host}:{bound_port}"))
    sys.stdout.flush()
    uvicorn.Server(server_config).run(sockets=[sock])
    return 0
