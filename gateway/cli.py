"""``vod-gateway serve | emulator | export-schema``: argument parsing and wiring, no logic."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import secrets
import shutil
import sys
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from gateway.config.settings import CREDENTIAL_VARIABLES, Settings, SettingsError, load_settings
from gateway.vod.callbacks import CallbackAuth
from gateway.vod.credentials import Secret

if TYPE_CHECKING:
    from gateway.emulator.embedded import EmbeddedEmulator

log = logging.getLogger("gateway.cli")
EXPLORER_QUERY = "VOD_GATEWAY_EXPLORER_QUERY"  # the emulator's sample operations, handed to workers
WORKERS_DIR = "VOD_GATEWAY_WORKERS_DIR"  # where the workers answer each other's metrics


def _parser() -> argparse.ArgumentParser:
    from gateway.emulator.config import add_cli_arguments

    # not __doc__: that is written for developers, in reStructuredText
    parser = argparse.ArgumentParser(
        prog="vod-gateway",
        description="GraphQL gateway for ApsaraVideo VOD's GetTranscodeSummary (also: python -m gateway).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the GraphQL gateway")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--emulator",
        action="store_true",
        help="run against the embedded VOD emulator on loopback, with demo credentials",
    )
    serve.add_argument("--emulator-port", type=int, default=0, help="the emulator's port (default: any)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes serving this port, sharing the account's limit through Redis "
        "(needs GATEWAY_REDIS_URL above 1; default 1)",
    )
    serve.add_argument("--listen-fd", type=int, default=None, help=argparse.SUPPRESS)  # a worker's socket
    serve.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)  # in its log lines
    emulator = commands.add_parser("emulator", help="run the local VOD emulator alone")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=9000)
    add_cli_arguments(emulator)
    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument(
        "--federation", action="store_true", help="print the Federation 2 subgraph SDL instead"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        from gateway.emulator.main import run

        return run(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "export-schema":
        from gateway.schema.sdl import federation_sdl, plain_sdl

        settings = load_settings({})
        sys.stdout.write(federation_sdl(settings) if args.federation else plain_sdl(settings))
        return 0
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"vod-gateway: {exc}", file=sys.stderr)
        return 2
    if settings.credentials is None and not args.emulator:
        print(
            f"vod-gateway: no credentials: set {' and '.join(CREDENTIAL_VARIABLES)} "
            "(and ALIBABA_CLOUD_SECURITY_TOKEN for STS), or run with --emulator",
            file=sys.stderr,
        )
        return 2
    from gateway.logs import configure_logging

    configure_logging(settings.log_level, settings.log_json, args.worker_index)
    try:
        if args.workers != 1:
            from gateway.http.workers import check_workers

            check_workers(settings, args.workers)
            return asyncio.run(_supervise(settings, args))
        if args.listen_fd is not None:
            from gateway.http.workers import die_with_parent

            die_with_parent()
        asyncio.run(_serve(settings, args))
    except KeyboardInterrupt:
        pass
    except SettingsError as exc:
        print(f"vod-gateway: {exc}", file=sys.stderr)
        return 2
    return 0


async def _serve(settings: Settings, args: argparse.Namespace) -> None:
    """One process: the app, its server and (``--emulator``) the embedded emulator. A worker of
    ``--workers`` (``--listen-fd``) is one too, on its supervisor's socket and emulator."""
    from gateway.app import create_app
    from gateway.emulator.embedded import start_embedded_emulator
    from gateway.http.draining import Draining
    from gateway.http.server import build_server
    from gateway.loading.shared import check_redis
    from gateway.tracing import tracing_from_env

    host, port, worker = args.host, args.port, args.listen_fd is not None
    tracing = tracing_from_env()  # a bad OTEL_* value: one line and exit 2, like a bad setting
    default_query = os.environ.get(EXPLORER_QUERY) if worker else None
    embedded: EmbeddedEmulator | None = None
    try:
        if args.emulator and not worker:
            embedded = await start_embedded_emulator(args.emulator_port)
            settings = settings.with_overrides(credentials=embedded.credentials, vod_endpoint=embedded.url)
            settings = _with_emulated_callbacks(settings, host, port)
            default_query = embedded.default_query
        await check_redis(settings)  # unreachable at start: one line and exit 2, not a degraded start
        draining = Draining()
        slot = (
            (Path(os.environ[WORKERS_DIR]), args.worker_index)
            if worker and WORKERS_DIR in os.environ
            else None
        )
        if default_query:
            app = create_app(
                settings, default_query=default_query, tracing=tracing, draining=draining, worker=slot
            )
        else:
            app = create_app(settings, tracing=tracing, draining=draining, worker=slot)
        server, listener = build_server(app, settings, host, port, draining, args.listen_fd)
        task = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:
            if task.done():
                await task
                return
            await asyncio.sleep(0.02)
        gc.collect()
        gc.freeze()  # start-up objects never need scanning again: shorter GC pauses, better p99
        port = _bound_port(server, port)  # --port 0: the one the system chose
        if worker:
            pass  # its supervisor says where it listens, once for all workers
        elif embedded is not None:
            if settings.callbacks is not None:  # it calls back to where we listen, as VOD would
                embedded.send_callbacks(f"http://127.0.0.1:{port}/vod/callback", settings.callbacks)
            print(embedded.banner(host, port), flush=True)
        else:
            where = f"http://{host}:{port}/graphql"
            print(f"vod-gateway: GraphQL at {where} (upstream {settings.vod_endpoint})", flush=True)
        await task
    finally:
        if embedded is not None:
            await embedded.stop()


async def _supervise(settings: Settings, args: argparse.Namespace) -> int:
    """``--workers N``: the supervisor (``http/workers.py``), with the embedded emulator in this
    process for ``--emulator`` (the workers are told its URL, credentials and callback AuthKey)."""
    from gateway.emulator.embedded import start_embedded_emulator
    from gateway.http.workers import KILL_MARGIN, Supervisor, listening_socket, worker_argv, worker_env
    from gateway.loading.shared import check_redis

    await check_redis(settings)
    sock = listening_socket(args.host, args.port)
    port: int = sock.getsockname()[1]
    embedded: EmbeddedEmulator | None = None
    metrics_dir = tempfile.mkdtemp(prefix="vod-gateway-workers-")
    overrides: dict[str, str] = {WORKERS_DIR: metrics_dir}
    try:
        if args.emulator:
            embedded = await start_embedded_emulator(args.emulator_port)
            settings = _with_emulated_callbacks(settings, args.host, port)
            overrides.update(_emulator_env(embedded, settings))
            overrides[EXPLORER_QUERY] = embedded.default_query
        supervisor = Supervisor(
            worker_argv(args.host, port),
            worker_env(settings, args.workers, overrides),
            sock,
            args.workers,
            settings.shutdown_drain + settings.shutdown_timeout + KILL_MARGIN,
        )
        announce = asyncio.create_task(_announce(settings, args, port, embedded))
        try:
            return await supervisor.run()
        finally:
            announce.cancel()
    finally:
        sock.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
        if embedded is not None:
            await embedded.stop()


def _emulator_env(embedded: EmbeddedEmulator, settings: Settings) -> dict[str, str]:
    """What a worker needs to reach the supervisor's emulator, and to check its callbacks."""
    credentials = embedded.credentials
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": credentials.access_key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": credentials.access_key_secret.reveal(),
        "ALIBABA_CLOUD_SECURITY_TOKEN": "",  # blank is unset: the emulator's demo key has none
        "VOD_ENDPOINT": embedded.url,
    }
    if settings.callbacks is not None:
        env["VOD_CALLBACK_AUTH_KEY"] = settings.callbacks.keys[0].reveal()
        env["VOD_CALLBACK_URL"] = settings.callbacks.url
    return env


async def _announce(
    settings: Settings, args: argparse.Namespace, port: int, embedded: EmbeddedEmulator | None
) -> None:
    """Once a worker answers: the banner (and the emulator's callbacks, now that someone listens)."""
    import httpx

    async with httpx.AsyncClient(trust_env=False, timeout=1.0) as client:
        while True:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    workers = f"{args.workers} workers sharing the account through Redis"
    if embedded is not None:
        if settings.callbacks is not None:
            embedded.send_callbacks(f"http://127.0.0.1:{port}/vod/callback", settings.callbacks)
        print(embedded.banner(args.host, port), flush=True)
        print(f"  workers:   {workers}", flush=True)
    else:
        where = f"http://{args.host}:{port}/graphql"
        print(f"vod-gateway: GraphQL at {where} (upstream {settings.vod_endpoint}; {workers})", flush=True)


def _with_emulated_callbacks(settings: Settings, host: str, port: int) -> Settings:
    """``serve --emulator`` turns VOD's callbacks on with a fresh AuthKey, unless they are
    configured already (then the emulator signs with that key and URL)."""
    if settings.callbacks is not None:
        return settings
    url = f"http://{host}:{port}/vod/callback"  # what "VOD" is configured with: the signature covers it
    return settings.with_overrides(callbacks=CallbackAuth(url, (Secret(secrets.token_urlsafe(24)),)))


def _bound_port(server: uvicorn.Server, asked: int) -> int:
    for listener in server.servers:
        for sock in listener.sockets:
            port: int = sock.getsockname()[1]
            return port
    return asked


if __name__ == "__main__":  # pragma: no cover
    warnings.simplefilter("default")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
