"""The emulator's Starlette app: the VOD endpoint at ``/`` plus unsigned admin paths.

Admin paths are an emulator-only convenience for tests and benchmarks in other processes; the real
service has nothing like them:

- ``GET /_emulator/stats[?window=1.0&detail=1]``: call counts, ``max_calls_in_any_window``, records;
- ``POST /_emulator/reset``: forget recorded calls and flow-control windows;
- ``GET /_emulator/clock`` / ``POST /_emulator/clock`` with ``{"advance": seconds}``: emulated time;
- ``GET /_emulator/catalogue[?per_status=3]``: sample IDs per status and a nonexistent ID;
- ``GET /_emulator/faults`` / ``POST /_emulator/faults`` with ``{"faults": "5xx:0.1,hang:0.02"}``
  (``"none"`` to stop): the injected faults, switched while running.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.clock import Clock, MonotonicClock
from gateway.emulator.callbacks import CallbackConfig
from gateway.emulator.config import FAULT_KINDS, EmulatorConfig, parse_faults
from gateway.emulator.faults import QuietResets
from gateway.emulator.model import utc
from gateway.emulator.service import VodService
from gateway.emulator.state import EmulatorState


def create_emulator_app(
    config: EmulatorConfig,
    clock: Clock | None = None,
    *,
    wall: Callable[[], float] = time.time,
    anchor: float | None = None,
) -> Starlette:
    """Build an emulator; ``app.state.emulator`` (:class:`EmulatorState`) exposes its insides.

    ``clock`` drives latency, flow control, hangs, stats and emulated catalogue time (default:
    monotonic). ``wall`` is what timestamps are checked against; ``anchor`` is the emulated UTC
    epoch the catalogue starts at (default: now).
    """
    state = EmulatorState.build(config, clock or MonotonicClock(), wall, anchor)

    def _state(request: Request) -> EmulatorState:
        emulator: EmulatorState = request.app.state.emulator
        return emulator

    async def stats(request: Request) -> JSONResponse:
        try:
            window = float(request.query_params.get("window", "1.0"))
        except ValueError:
            window = math.nan
        if not window > 0 or math.isinf(window):
            return _bad_request("window must be a positive number of seconds")
        detail = request.query_params.get("detail", "") in ("1", "true", "yes")
        emulator = _state(request)
        body = emulator.stats.to_json(window, detail)
        if emulator.callbacks is not None:
            d = emulator.callbacks.deliveries
            body["callbacks"] = {
                "sent": d.sent,
                "attempts": d.attempts,
                "lost": d.lost,
                "duplicated": d.duplicated,
            }
        return JSONResponse(body)

    async def reset(request: Request) -> JSONResponse:
        _state(request).reset()
        return JSONResponse({"reset": True})

    async def clock_endpoint(request: Request) -> JSONResponse:
        emulator = _state(request)
        if request.method == "POST":
            try:
                seconds = float(json.loads(await request.body())["advance"])
            except (ValueError, KeyError, TypeError):
                return _bad_request('expected a JSON body {"advance": seconds}')
            if not 0 <= seconds < math.inf:
                return _bad_request("advance must be a non-negative number of seconds")
            emulator.advance(seconds)
        now = emulator.catalogue.now()
        return JSONResponse({"now": utc(now), "epoch": now})

    async def catalogue(request: Request) -> JSONResponse:
        emulator = _state(request)
        try:
            per_status = max(1, min(100, int(request.query_params.get("per_status", "3"))))
        except ValueError:
            return _bad_request("per_status must be an integer")
        return JSONResponse(
            {
                "size": len(emulator.catalogue),
                "seed": emulator.config.seed,
                "now": utc(emulator.catalogue.now()),
                "samples": emulator.sample_ids(per_status),
                "nonexistent": emulator.catalogue.nonexistent_id,
            }
        )

    async def faults(request: Request) -> JSONResponse:
        injector = _state(request).faults
        if request.method == "POST":
            try:
                rates = parse_faults(str(json.loads(await request.body())["faults"]))
            except (ValueError, KeyError, TypeError):
                kinds = ", ".join(FAULT_KINDS)
                return _bad_request(f'expected {{"faults": "kind:p,..."}} with kinds {kinds}, or "none"')
            injector.set_rates(rates)
        return JSONResponse({"faults": injector.rates.describe()})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # reset faults abort connections on purpose: keep their tracebacks out of the server log
        quiet = QuietResets()
        server_log = logging.getLogger("uvicorn.error")
        server_log.addFilter(quiet)
        if config.callback_url is not None and config.callback_key:
            state.send_callbacks(
                CallbackConfig(
                    config.callback_url,
                    config.callback_key,
                    config.callback_loss,
                    config.callback_duplicate,
                    config.callback_delay,
                ),
                wall,
            )
        try:
            yield
        finally:
            server_log.removeFilter(quiet)
            if state.callbacks is not None:
                await state.callbacks.aclose()

    app = Starlette(
        routes=[
            Route("/", VodService(state), methods=["GET", "POST"]),
            Route("/_emulator/stats", stats, methods=["GET"]),
            Route("/_emulator/reset", reset, methods=["POST"]),
            Route("/_emulator/clock", clock_endpoint, methods=["GET", "POST"]),
            Route("/_emulator/catalogue", catalogue, methods=["GET"]),
            Route("/_emulator/faults", faults, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.emulator = state
    return app


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse({"Code": "InvalidParameter", "Message": message}, status_code=400)
