"""BybitDataStore behind a real WebSocketApp, against a Bybit-speaking server on 127.0.0.1:
a gap resubscribes on the live connection; a reconnect unsyncs the book until the
new subscription's snapshot arrives."""

from __future__ import annotations

import json

from _e2e import ScriptedWsServer, serve_ws
from aiohttp import web

from datastores._client import Client
from datastores._ws import Backoff
from datastores.exchanges.bybit.store import BybitDataStore

from .test_orderbook import book_msg, prices
from .test_stores import until

TOPIC = "orderbook.50.BTCUSDT"


class BybitWsServer(ScriptedWsServer):
    """Answers pings, acknowledges (un)subscriptions, and after each subscription
    pushes the next scripted batch of messages."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[tuple[str, list[str]]] = []

    async def on_text(self, ws: web.WebSocketResponse, text: str) -> None:
        request_msg = json.loads(text)
        op = request_msg.get("op")
        if op == "ping":
            await ws.send_json({"success": True, "ret_msg": "pong", "op": "ping"})
            return
        self.ops.append((op, request_msg.get("args", [])))
        await ws.send_json({"success": True, "ret_msg": "", "op": op, "conn_id": "c1"})
        if op == "subscribe":
            await self.push_next_batch(ws)


async def test_gap_resubscribes_on_the_live_connection_and_reconnect_resyncs() -> None:
    async with serve_ws(BybitWsServer(), "/v5/public/linear") as (server, base):
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
