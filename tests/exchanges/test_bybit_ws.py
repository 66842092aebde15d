"""BybitDataStore behind a real WebSocketApp, against a Bybit-speaking server on 127.0.0.1:
a gap resubscribes on the live connection; a reconnect unsyncs the book until the
new subscription's snapshot arrives."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import WSMsgType, web
from test_bybit import until
from test_bybit_orderbook import book_msg, prices

from datastores._client import Client
from datastores._ws import Backoff
from datastores.exchanges.bybit.store import BybitDataStore

TOPIC = "orderbook.50.BTCUSDT"


class BybitWsServer:
    """Answers pings, acknowledges (un)subscriptions, and after each subscription
    pushes the next scripted batch of messages."""

    def __init__(self) -> None:
        self.ops: list[tuple[str, list[str]]] = []
        self.batches: list[list[dict[str, Any]]] = []
        self.sockets: list[web.WebSocketResponse] = []

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        async for frame in ws:
            if frame.type is not WSMsgType.TEXT:
                continue
            request_msg = json.loads(frame.data)
            op = request_msg.get("op")
            if op == "ping":
                await ws.send_json({"success": True, "ret_msg": "pong", "op": "ping"})
                continue
            self.ops.append((op, request_msg.get("args", [])))
            await ws.send_json({"success": True, "ret_msg": "", "op": op, "conn_id": "c1"})
            if op == "subscribe" and self.batches:
                for msg in self.batches.pop(0):
                    await ws.send_json(msg)
        return ws


@asynccontextmanager
async def bybit_ws_server() -> AsyncIterator[tuple[BybitWsServer, str]]:
    server = BybitWsServer()
    app = web.Application()
    app.router.add_get("/v5/public/linear", server.handle)
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
    async with bybit_ws_server() as (server, base):
        server.batches = [
            [
                book_msg(TOPIC, "snapshot", 10, [["101", "1"]], [["99", "1"]]),
                book_msg(TOPIC, "delta", 11, [["102", "1"]]),
                book_msg(TOPIC, "delta", 4, [["103", "1"]]),  # u went back: a gap
            ],
            [book_msg(TOPIC, "snapshot", 20, [["105", "1"]], [["98", "2"]])],
        ]
        async with Client(apis={}, redirects={"stream.bybit.com": base}) as client:
            store = BybitDataStore()
            await client.ws_connect(
                "wss://stream.bybit.com/v5/public/linear",
                send_json={"op": "subscribe", "args": [TOPIC]},
                hdlr_json=store.onmessage,
                backoff=Backoff(initial=0.01, maximum=0.05),
            )
            await until(lambda: store.orderbook.status("BTCUSDT").last_update_id == 20)
            status = store.orderbook.status("BTCUSDT")
            assert status.synced
            assert (status.gaps, status.resyncs) == (1, 1)
            assert server.ops == [
                ("subscribe", [TOPIC]),
                ("unsubscribe", [TOPIC]),
                ("subscribe", [TOPIC]),
            ]
            assert prices(store, "BTCUSDT") == ([("105", "1")], [("98", "2")])

            # The server drops the connection: the app reconnects and resubscribes by
            # itself; the book is unsynced until the new subscription's snapshot.
            server.batches = [[book_msg(TOPIC, "snapshot", 1, [["107", "1"]], [["97", "1"]])]]
            await server.sockets[0].close()
            await until(lambda: store.orderbook.status("BTCUSDT").last_update_id == 1)
            status = store.orderbook.status("BTCUSDT")
            assert status.synced
            assert status.gaps == 1  # a reconnect is not a gap
            assert status.resyncs == 2
            assert prices(store, "BTCUSDT") == ([("107", "1")], [("97", "1")])
            # the store did not resubscribe on its own after the reconnect
            assert [op for op, _ in server.ops] == [
                "subscribe",
                "unsubscribe",
                "subscribe",
                "subscribe",
            ]
            assert store.dropped_messages == 0
            assert store.failed_operations == 0
