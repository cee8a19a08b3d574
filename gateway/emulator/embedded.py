"""``serve --emulator``: the local VOD emulator on loopback, in the gateway's own event loop.

It reads the same ``VOD_EMULATOR_*`` knobs as ``vod-gateway emulator`` (faults, flow control,
catalogue, seed, keys), so fault handling can be tried without a second process; only the latency
defaults differently, to 20-60 ms, so the demo feels like a network.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass

import uvicorn

from gateway.config.settings import SettingsError
from gateway.emulator.app import create_emulator_app
from gateway.emulator.callbacks import CallbackConfig
from gateway.emulator.catalogue import Catalogue
from gateway.emulator.config import EmulatorConfig
from gateway.emulator.model import ALL_FAILED, ALL_SUCCEEDED, PROCESSING
from gateway.emulator.state import EmulatorState
from gateway.vod.callbacks import CallbackAuth
from gateway.vod.credentials import Credentials, Secret

DEMO_LATENCY_MS = (20.0, 60.0)


@dataclass
class EmbeddedEmulator:
    url: str
    credentials: Credentials
    catalogue: Catalogue
    server: uvicorn.Server
    task: asyncio.Task[None]

    state: EmulatorState | None = None

    def send_callbacks(self, target: str, auth: CallbackAuth) -> None:
        """Deliver event callbacks to the gateway at ``target``, signed as ``auth`` configures,
        with the ``VOD_EMULATOR_CALLBACK_*`` loss, duplicate and delay knobs."""
        assert self.state is not None
        knobs = self.state.config
        key = auth.keys[0].reveal()
        config = CallbackConfig(
            target, key, knobs.callback_loss, knobs.callback_duplicate, knobs.callback_delay, auth.url
        )
        self.state.send_callbacks(config)

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task

    def demo_ids(self) -> tuple[list[str], str]:
        samples = self.catalogue.sample_ids(2)
        ids = samples[ALL_SUCCEEDED][:1] + samples[PROCESSING][:1] + samples[ALL_FAILED][:1]
        return ids, self.catalogue.nonexistent_id

    @property
    def default_query(self) -> str:
        ids, missing = self.demo_ids()
        quoted = ", ".join(f'"{i}"' for i in [*ids, missing])
        live = ", ".join(f'"{i}"' for i in self.live_ids())
        return (
            "# Served by the embedded VOD emulator: a finished video, one transcoding at start-up\n"
            "# (run again to watch it progress; it is done within 5 minutes), a failed one, and one\n"
            "# that does not exist (null, with a VIDEO_NOT_FOUND error at its index).\n"
            "query Summaries {\n"
            f"  transcodeSummaries(videoIds: [{quoted}]) {{\n"
            "    videoId\n    transcodeStatus\n    progress\n"
            "    jobs { definition format transcodeJobStatus transcodeProgress fileSize encryptType }\n"
            "  }\n}\n\n"
            "# Live progress of the videos still transcoding, over a WebSocket: each one at once, then\n"
            "# again on every change; completes when all have finished. Emulated jobs end within minutes\n"
            f'# of start; POST {{"advance": 60}} to {self.url}/_emulator/clock hurries them.\n'
            "subscription Progress {\n"
            f"  transcodeSummaryUpdates(videoIds: [{live}]) {{\n"
            "    videoId\n    transcodeStatus\n    progress\n"
            "  }\n}\n"
        )

    def live_ids(self, count: int = 2) -> list[str]:
        """Processing videos that finish last (a subscription to them streams longest)."""
        videos = [self.catalogue.video(i) for i in self.catalogue.sample_ids(100)[PROCESSING]]
        ends = {v.video_id: max(job.end for job in v.jobs) for v in videos if v is not None}
        return sorted(ends, key=ends.__getitem__, reverse=True)[:count] or self.demo_ids()[0][:1]

    def banner(self, host: str, port: int) -> str:
        ids, missing = self.demo_ids()
        where = f"http://{host}:{port}"
        # a tiny VOD_EMULATOR_CATALOGUE may have no finished video to show
        quoted = ", ".join(f'\\"{i}\\"' for i in [*ids[:1], missing])
        query = f"{{ transcodeSummaries(videoIds: [{quoted}]) {{ videoId transcodeStatus progress }} }}"
        body = '{"query":"' + query + '"}'
        return "\n".join(
            [
                "vod-gateway is running on the embedded VOD emulator (no cloud account needed)",
                f"  GraphQL:   {where}/graphql   (open it in a browser for GraphiQL)",
                f"  emulator:  {self.url}   (AccessKeyId {self.credentials.access_key_id})",
                f"  health:    {where}/healthz   metrics: {where}/metrics",
                "  try:",
                f"    curl -s {where}/graphql -H 'content-type: application/json' \\",
                f"      -d '{body}'",
            ]
        )


def embedded_config(environ: Mapping[str, str] = os.environ) -> EmulatorConfig:
    """The ``VOD_EMULATOR_*`` knobs; a bad one is a :class:`SettingsError` naming the variable."""
    try:
        config = EmulatorConfig.from_env(environ)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if not environ.get("VOD_EMULATOR_LATENCY", "").strip():
        config = dataclasses.replace(config, latency_ms=DEMO_LATENCY_MS)
    return config


async def start_embedded_emulator(
    port: int = 0, config: EmulatorConfig | None = None, environ: Mapping[str, str] = os.environ
) -> EmbeddedEmulator:
    """Start the emulator on 127.0.0.1 (any free port by default) and wait until it listens.

    Without ``config``, the knobs come from ``environ``; the gateway signs with the first key.
    """
    config = config or embedded_config(environ)
    app = create_emulator_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, loop="asyncio", http="httptools", log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            raise RuntimeError("the embedded emulator failed to start")
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    key = config.keys[0]
    token = Secret(key.security_token) if key.security_token else None
    creds = Credentials(key.access_key_id, Secret(key.secret), token)
    state: EmulatorState = app.state.emulator
    return EmbeddedEmulator(f"http://127.0.0.1:{bound}", creds, state.catalogue, server, task, state)
