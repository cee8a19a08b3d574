"""The floor for ``bench.cpu``: raw Starlette answering each request body with the bytes the gateway
answered it with (a JSON map of request body -> response body, in the file ``BENCH_FLOOR_BODIES``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_BODIES: dict[bytes, bytes] = {
    request.encode(): response.encode()
    for request, response in json.loads(Path(os.environ["BENCH_FLOOR_BODIES"]).read_text()).items()
}


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def graphql(request: Request) -> Response:
    return Response(_BODIES[await request.body()], media_type="application/json")


app = Starlette(routes=[Route("/healthz", healthz), Route("/graphql", graphql, methods=["POST"])])
