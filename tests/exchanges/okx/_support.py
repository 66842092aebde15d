"""Shared helpers for the OKX tests (no tests here): message builders, a capturing
WebSocket, a local REST server standing in for www.okx.com, and a naive book model."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

from datastores._integrity import crc32_interleaved

DATA = Path(__file__).parent / "data"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def book_msg(
    channel: str,
    inst: str,
    action: str | None,
    asks: list[list[str]],
    bids: list[list[str]],
    *,
    prev: int | None = None,
    seq: int | None = None,
    checksum: int | None = None,
    ts: str = "1700000000000",
) -> dict[str, Any]:
    """An OKX order-book push."""
    item: dict[str, Any] = {"asks": asks, "bids": bids, "ts": ts}
    if checksum is not None:
        item["checksum"] = checksum
    if prev is not None:
        item["prevSeqId"] = prev
    if seq is not None:
        item["seqId"] = seq
    msg: dict[str, Any] = {"arg": {"channel": channel, "instId": inst}}
    if action is not None:
        msg["action"] = action
    msg["data"] = [item]
    return msg


def lv(px: str, sz: str, orders: str = "1") -> list[str]:
    """One ``[px, sz, "0", orders]`` level."""
    return [px, sz, "0", orders]


class Model:
    """Naive reference book: price string -> level, per side."""

    def __init__(self) -> None:
        self.asks: dict[float, list[str]] = {}
        self.bids: dict[float, list[str]] = {}

    def replace(self, asks: list[list[str]], bids: list[list[str]]) -> None:
        self.asks.clear()
        self.bids.clear()
        self.apply(asks, bids)

    def apply(self, asks: list[list[str]], bids: list[list[str]]) -> None:
        for side, levels in ((self.asks, asks), (self.bids, bids)):
            for level in levels:
                if float(level[1]) == 0:
                    side.pop(float(level[0]), None)
                else:
                    side[float(level[0])] = level

    def trim(self, depth: int) -> None:
        for side, reverse in ((self.asks, False), (self.bids, True)):
            for key in sorted(side, reverse=reverse)[depth:]:
                del side[key]

    def sides(self) -> tuple[list[list[str]], list[list[str]]]:
        asks = [self.asks[k] for k in sorted(self.asks)]
        bids = [self.bids[k] for k in sorted(self.bids, reverse=True)]
        return asks, bids

    def checksum(self) -> int:
        asks, bids = self.sides()
        return crc32_interleaved([b[:2] for b in bids], [a[:2] for a in asks])


def levels_of(store: Any, inst: str) -> tuple[list[list[str]], list[list[str]]]:
    """``(asks, bids)`` of ``inst`` as ``[px, sz, liqSz, ordSz]`` lists, best first."""
    book = store.sorted({"instId": inst})
    return (
        [[i["px"], i["sz"], i["liqSz"], i["ordSz"]] for i in book["asks"]],
        [[i["px"], i["sz"], i["liqSz"], i["ordSz"]] for i in book["bids"]],
    )


class FakeWS:
    """Captures what the store sends on the connection it was fed by."""

    def __init__(self, url: str = "wss://ws.okx.com:8443/ws/v5/public") -> None:
        self.url = url
        self.closed = False
        self.sent: list[Any] = []
        self.fail = False

    async def send_json(self, obj: Any, auth: Any = None) -> None:
        if self.fail:
            raise ConnectionResetError("socket closed")
        self.sent.append(obj)


class RestServer:
    """A stand-in for https://www.okx.com on 127.0.0.1.

    ``responses`` is consumed in order (the last one repeats); each is
    ``(status, body)``. ``requests`` records ``(path, query, headers)``.
    """

    def __init__(self) -> None:
        self.responses: list[tuple[int, Any]] = []
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.base = ""
        self.hook: Callable[[], None] | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query), dict(request.headers)))
        if self.hook is not None:
            self.hook()
        status, body = self.responses[0] if len(self.responses) == 1 else self.responses.pop(0)
        text = body if isinstance(body, str) else json.dumps(body)
        return web.Response(status=status, text=text, content_type="application/json")


@asynccontextmanager
async def rest_server() -> AsyncIterator[RestServer]:
    server = RestServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.base = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


async def settle(predicate: Callable[[], bool], rounds: int = 400) -> None:
    """Let background tasks run (real loopback I/O) until ``predicate()`` holds."""
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")
