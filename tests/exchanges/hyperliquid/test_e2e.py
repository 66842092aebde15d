"""End to end against the fake Hyperliquid venue: a real Client and WebSocketApp on
loopback. The book equals the fake's top 20 levels; a lost frame heals with the next;
a reconnect neither loses nor duplicates fills; orders placed through a signed
``/exchange`` come back on ``orderUpdates``; junk is dropped and counted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from _e2e import until

from datastores._client import Client
from datastores.exchanges.hyperliquid.store import HyperliquidDataStore
from datastores.testing import FakeExchange

pytest.importorskip("eth_account")

WS = "wss://api.hyperliquid.xyz/ws"
INFO = "https://api.hyperliquid.xyz/info"


@pytest.fixture
async def fake() -> AsyncIterator[FakeExchange]:
    async with FakeExchange("hyperliquid", seed=3, rate=0, levels=60) as exchange:
        yield exchange


def same_book(store: HyperliquidDataStore, fake: FakeExchange, coin: str) -> bool:
    bids, asks = fake.book(coin).top(20)
    local_asks, local_bids = store.l2_book.levels(coin)
    return [tuple(level[:2]) for level in local_bids] == bids and [
        tuple(level[:2]) for level in local_asks
    ] == asks


def subscribe(kind: str, **fields: Any) -> dict[str, Any]:
    return {"method": "subscribe", "subscription": {"type": kind, **fields}}


async def test_book_fills_and_orders_through_faults(fake: FakeExchange) -> None:
    profile: Any = fake.profile
    user = profile.address
    store = HyperliquidDataStore()
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        # an order placed and filled before the client connects: its fill is history
        old = fake.place_order("BTC", "BUY", "0.5", "60000")
        fake.fill_order(old.order_id, "0.2")
        await store.initialize(
            client.post(INFO, data={"type": "frontendOpenOrders", "user": user}),
            client.post(INFO, data={"type": "userFills", "user": user}),
        )
        assert store.order_updates.get({"coin": "BTC", "oid": old.order_id}) is not None
        assert [f["tid"] for f in store.user_fills.find()] == [profile.fills[0]["tid"]]
        await client.ws_connect(
            WS,
            send_json=[
                subscribe("l2Book", coin="BTC"),
                subscribe("userFills", user=user),
                subscribe("orderUpdates", user=user),
            ],
            hdlr_json=store.onmessage,
        )
        await until(lambda: store.l2_book.is_synced("BTC"))
        # the snapshot repeats the fill initialize() fetched: still one row
        await until(lambda: len(store.user_fills) == 1)
        fake.tick(5)
        await fake.drain()
        await until(lambda: same_book(store, fake, "BTC"))
        store.l2_book._check()
        assert not store.l2_book.status("BTC").verifiable

        # a lost frame cannot be seen, and the next frame heals the book
        fake.skip_sequence("BTC", 1)
        fake.tick(2)
        await fake.drain()
        await until(lambda: same_book(store, fake, "BTC"))

        # an order through the signed /exchange endpoint, then a fill
        resp = await client.fetch(
            "POST",
            "https://api.hyperliquid.xyz/exchange",
            data={
                "action": {
                    "type": "order",
                    "orders": [
                        {"a": 0, "b": True, "p": "64000", "s": "0.1", "r": False,
                         "t": {"limit": {"tif": "Gtc"}}}
                    ],
                    "grouping": "na",
                }
            },
        )  # fmt: skip
        assert resp.data["status"] == "ok", resp.data
        oid = resp.data["response"]["data"]["statuses"][0]["resting"]["oid"]
        await until(lambda: store.order_updates.get({"coin": "BTC", "oid": oid}) is not None)
        fake.fill_order(oid)
        await until(lambda: store.order_updates.get({"coin": "BTC", "oid": oid}) is None)
        await until(lambda: len(store.user_fills) == 2)

        # a reconnect: the books wait for their next frame; the fills snapshot comes
        # again, with a fill made while disconnected, and nothing is listed twice
        fake.drop_connections()
        fake.fill_order(old.order_id, "0.1")  # nobody connected: only in the snapshot
        await fake.wait_for_connections(1)
        await until(lambda: len(store.user_fills) == 3)
        # the reconnect hook gets the new connection: the book was still marked unsynced
        await until(lambda: store.l2_book.status("BTC").resyncs == 1)
        fake.tick(1)
        await fake.drain()
        await until(lambda: store.l2_book.is_synced("BTC"))
        tids = [f["tid"] for f in store.user_fills.find()]
        assert sorted(tids) == sorted(f["tid"] for f in profile.fills)
        assert len(set(tids)) == len(tids)

        # junk: dropped and counted, never raised
        fake.send_malformed("BTC")
        fake.send_unknown_channel("BTC")
        await fake.drain()
        await until(lambda: store.unhandled.get("fakeUnknownChannel") == 1)
        assert store.dropped_messages >= 1
        assert store.handler_errors == 0
        fake.tick(1)
        await fake.drain()
        await until(lambda: same_book(store, fake, "BTC"))


async def test_unknown_coin_closes_the_socket(fake: FakeExchange) -> None:
    store = HyperliquidDataStore()
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        await client.ws_connect(
            WS, send_json=[subscribe("l2Book", coin="btc")], hdlr_json=store.onmessage
        )
        await until(lambda: fake.venues["hyperliquid"].stats.connections_closed >= 1)
        assert store.l2_book.symbols == []


async def test_bad_signature_is_refused(fake: FakeExchange) -> None:
    other = {"hyperliquid": ["0x" + "11" * 32]}
    async with Client(apis=other, redirects=fake.redirects) as client:
        resp = await client.fetch(
            "POST",
            "https://api.hyperliquid.xyz/exchange",
            data={"action": {"type": "cancel", "cancels": [{"a": 0, "o": 1}]}},
        )
    assert resp.data["status"] == "err"
    assert "does not exist" in resp.data["response"]
