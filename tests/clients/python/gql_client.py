"""Python's gql (4.4, in its own venv: tests/clients/python/.venv) against the gateway: a query over
HTTP (httpx) with a missing video, and a subscription over WebSocket (graphql-transport-ws, then
legacy graphql-ws) followed to its end, advancing the emulator's clock on each event.

    python gql_client.py --url URL --emulator URL --processing '["id", ...]' --done ID --missing ID

Prints one JSON report line, like the Node scripts in ../js."""

from __future__ import annotations

import argparse
import asyncio
import json
import traceback
from typing import Any

import httpx
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

SUMMARIES = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId transcodeStatus progress } }"
UPDATES = "subscription($ids: [ID!]!) { transcodeSummaryUpdates(videoIds: $ids) { videoId transcodeStatus progress } }"


async def query(args: argparse.Namespace) -> dict[str, Any]:
    async with Client(transport=HTTPXAsyncTransport(url=args.url)) as session:
        try:
            await session.execute(gql(SUMMARIES), variable_values={"ids": [args.done, args.missing]})
        except TransportQueryError as partial:  # gql's way: errors raise, with the data beside them
            return {
                "data": partial.data,
                "errorCodes": [e["extensions"]["code"] for e in partial.errors or []],
            }
    raise AssertionError("a missing video must come with its error")


async def subscription(args: argparse.Namespace, ids: list[str], subprotocol: str) -> dict[str, Any]:
    transport = WebsocketsTransport(url=args.url.replace("http", "ws", 1), subprotocols=[subprotocol])
    seen: dict[str, list[list[Any]]] = {}
    async with Client(transport=transport) as session, httpx.AsyncClient() as http:
        async for data in session.subscribe(gql(UPDATES), variable_values={"ids": ids}):
            item = data["transcodeSummaryUpdates"]
            seen.setdefault(item["videoId"], []).append([item["transcodeStatus"], item["progress"]])
            await http.post(args.emulator + "/_emulator/clock", json={"advance": 60})
    return {"ended": "complete", "seen": seen}


async def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("url", "emulator", "processing", "done", "missing"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--only", default="")  # comma-separated cases (default: all)
    args = parser.parse_args()
    processing = json.loads(args.processing)
    cases = {
        "query": lambda: query(args),
        "subscriptionOverGraphqlTransportWs": lambda: subscription(
            args, processing, WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
        ),
        "subscriptionOverLegacyGraphqlWs": lambda: subscription(
            args, processing, WebsocketsTransport.APOLLO_SUBPROTOCOL
        ),
    }
    only = [c for c in args.only.split(",") if c]
    report: dict[str, Any] = {}
    for name, run in cases.items():
        if only and name not in only:
            continue
        try:
            report[name] = await asyncio.wait_for(run(), 60)
        except Exception:  # reported, not raised: pytest shows it
            report[name] = {"failed": traceback.format_exc()}
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
