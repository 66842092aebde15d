"""OKXDataStore behind a real WebSocketApp, against an OKX-speaking server on 127.0.0.1:
resubscribe on the live connection after a gap, resync after a reconnect."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import WSMsgType, web
from test_okx_support import book_msg, lv, settle

from datastores._client import Client
from datastores._ws import Backoff
from datastores.exchanges.okx.store import OKXDataStore

ARG = {"channel": "books", "instId": "BTC-USDT"}


class OkxWsServer:
    """Answers ``ping``, acknowledges (un)subscriptions, and on each subscription
    pushes the next scripted batch of messages."""

    def __init__(self) -> None:
        self.ops: list[str] = []
        self.batches: list[list[dict[str, Any]]] = []
        self.sockets: list[web.WebSocketResponse] = []

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        async for frame in ws:
            if frame.type is not WSMsgType.TEXT:
                continue
            if frame.data == "ping":
                await ws.send_str("pong")
                continue
            request_msg = json.loads(frame.data)
            op = request_msg["op"]
            self.ops.append(op)
            for arg in request_msg["args"]:
                await ws.send_json({"event": op, "arg": arg, "connId": "c1"})
                if op == "subscribe" and self.batches:
                    for msg in self.batches.pop(0):
                        await ws.send_json(msg)
        return ws


@asynccontextmanager
async def okx_ws_server() -> AsyncIterator[tuple[OkxWsServer, str]]:
    server = OkxWsServer()
    app = web.Application()
    app.router.add_get("/ws/v5/public", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield server, f"ws://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        for ws in server.sockets:
            await ws.close()
        await runner.cleanup()


async def test_gap_resubscribes_on_the_live_connection_and_reconnect_resyncs() -> None:
    async with okx_ws_server() as (server, base):
        server.batches = [
            [
                book_msg(
                    "books", "BTC-USDT", "snapshot", [lv("2", "1")], [lv("1", "1")], prev=-1, seq=10
                ),
                book_msg("books", "BTC-USDT", "update", [lv("3", "1")], [], prev=10, seq=11),
                # a lost message: prevSeqId does not follow
                book_msg("books", "BTC-USDT", "update", [lv("4", "1")], [], prev=99, seq=100),
            ],
            [
                book_msg(
                    "books",
                    "BTC-USDT",
                    "snapshot",
                    [lv("5", "1")],
                    [lv("4", "2")],
                    prev=-1,
                    seq=200,
                )
            ],
        ]
        async with Client(apis={}, redirects={"ws.okx.com": base}) as client:
            store = OKXDataStore()
            await client.ws_connect(
                "wss://ws.okx.com:8443/ws/v5/public",
                send_json={"op": "subscribe", "args": [ARG]},
                hdlr_json=store.onmessage,
                backoff=Backoff(initial=0.01, maximum=0.05),
            )
            await settle(lambda: store.books.status("BTC-USDT").last_update_id == 200)
            status = store.books.status("BTC-USDT")
            assert status.synced
            assert status.gaps == 1
            assert status.resyncs == 1
            assert server.ops == ["subscribe", "unsubscribe", "subscribe"]
            assert [i["px"] for i in store.books.sorted({"instId": "BTC-USDT"})["asks"]] == ["5"]

            # The server drops the connection: the app reconnects and resubscribes;
            # meanwhile the book is unsynced, then the new snapshot restores it.
            server.batches = [
                [
                    book_msg(
                        "books",
                        "BTC-USDT",
                        "snapshot",
                        [lv("7", "1")],
                        [lv("6", "1")],
                        prev=-1,
                        seq=300,
                    )
                ]
            ]
            await server.sockets[0].close()
            await settle(lambda: store.books.status("BTC-USDT").last_update_id == 300)
            status = store.books.status("BTC-USDT")
            assert status.synced
            assert status.resyncs == 2
            assert status.gaps == 1
            assert server.ops == ["subscribe", "unsubscribe", "subscribe", "subscribe"]
            assert [i["px"] for i in store.books.sorted({"instId": "BTC-USDT"})["bids"]] == ["6"]
            assert store.statistics().malformed == 0
