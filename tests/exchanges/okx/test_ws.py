"""OKXDataStore behind a real WebSocketApp, against an OKX-speaking server on 127.0.0.1:
resubscribe on the live connection after a gap, resync after a reconnect."""

from __future__ import annotations

import json

from _e2e import ScriptedWsServer, serve_ws
from aiohttp import web

from datastores._client import Client
from datastores._ws import Backoff
from datastores.exchanges.okx.store import OKXDataStore

from ._support import book_msg, lv, settle

ARG = {"channel": "books", "instId": "BTC-USDT"}


class OkxWsServer(ScriptedWsServer):
    """Answers ``ping``, acknowledges (un)subscriptions, and on each subscription
    pushes the next scripted batch of messages."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    async def on_text(self, ws: web.WebSocketResponse, text: str) -> None:
        if text == "ping":
            await ws.send_str("pong")
            return
        request_msg = json.loads(text)
        op = request_msg["op"]
        self.ops.append(op)
        for arg in request_msg["args"]:
            await ws.send_json({"event": op, "arg": arg, "connId": "c1"})
            if op == "subscribe":
                await self.push_next_batch(ws)


async def test_gap_resubscribes_on_the_live_connection_and_reconnect_resyncs() -> None:
    async with serve_ws(OkxWsServer(), "/ws/v5/public") as (server, base):
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
            assert store.dropped_messages == 0
