"""KuCoin against its fake venues on loopback: a real Client, WebSocketApp and store.

Classic spot and futures level2 books (REST snapshot, gap, resync, equal to the
fake's), a bullet token that expires while the instance server moves (the store
fetches a new bullet and the app reconnects to it), the UTA ``obu`` book healed by
resubscribing, private events and signed order entry, malformed and unknown
messages counted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from _e2e import until

from datastores import Client, KuCoinDataStore
from datastores.helpers import kucoin
from datastores.testing import FakeExchange, VirtualClock


async def settle(fake: FakeExchange, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Publish one update at a time until ``condition`` holds (books resync on updates)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        fake.tick(1)
        await fake.drain()
        await asyncio.sleep(0.005)


async def caught_up(store: KuCoinDataStore, fake: FakeExchange, symbol: str) -> list[str]:
    """Wait until the store applied everything published; the differences with the fake."""
    await fake.drain()
    truth = fake.book(symbol)
    await until(lambda: store.orderbook.status(symbol).last_update_id == truth.last_update_id)
    store.orderbook._check()
    asks, bids = store.orderbook.levels(symbol)
    return truth.differences(
        {str(lv[0]): str(lv[1]) for lv in bids}, {str(lv[0]): str(lv[1]) for lv in asks}, 100
    )


def subscribe(topic: str, private: bool = False) -> dict[str, Any]:
    return {"id": topic, "type": "subscribe", "topic": topic, "privateChannel": private} | {
        "response": True
    }


async def test_spot_book_gap_and_bullet_expiry_with_an_endpoint_change() -> None:
    symbol = "BTC-USDT"
    clock = VirtualClock(settle=0.002)  # one clock: signed timestamps, bullet checks
    async with (
        FakeExchange("kucoin-spot", seed=3, rate=0, clock=clock) as fake,
        Client(apis=fake.apis, redirects=fake.redirects, clock=clock) as client,
    ):
        store = KuCoinDataStore()
        store.client = client
        app = await kucoin.connect(client, store, send_json=subscribe(f"/market/level2:{symbol}"))
        first_url = str(app.url)
        assert first_url == store.endpoint
        await fake.wait_for_connections(1)
        await settle(fake, lambda: store.orderbook.is_synced(symbol))
        fake.tick(20)
        assert await caught_up(store, fake, symbol) == []

        fake.skip_sequence(symbol)
        await settle(fake, lambda: store.orderbook.status(symbol).gaps == 1)
        await settle(fake, lambda: store.orderbook.is_synced(symbol))
        assert await caught_up(store, fake, symbol) == []

        # Every token expires and the instance server moves: the old URL is refused.
        assert fake.expire_listen_key(venue="kucoin-spot")
        await settle(fake, lambda: str(app.url) != first_url, timeout=10.0)
        assert "/gen-1/" in str(app.url)
        assert str(app.url) == store.endpoint
        await fake.wait_for_connections(1)
        # Published before the new connection's subscription arrives, updates would be lost.
        await until(lambda: any(c.subscriptions for c in fake.connections))
        await settle(fake, lambda: store.orderbook.status(symbol).resyncs >= 3)
        await settle(fake, lambda: store.orderbook.is_synced(symbol))
        fake.tick(5)
        assert await caught_up(store, fake, symbol) == []

        fake.send_malformed(symbol)
        fake.send_unknown_channel(symbol)
        await settle(fake, lambda: store.unhandled.get("/fake/unknownTopic") == 1)
        await settle(fake, lambda: store.orderbook.is_synced(symbol))
        stats = store.statistics()
        assert stats.dropped == {"unreadable level2 update": 1}
        assert stats.handler_errors == 0
        assert await caught_up(store, fake, symbol) == []
        await app.close()


async def test_futures_book_private_events_and_order_entry() -> None:
    symbol = "XBTUSDTM"
    async with (
        FakeExchange("kucoin-futures", seed=4, rate=0) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        store = KuCoinDataStore()
        public = await kucoin.connect(
            client, store, futures=True, send_json=subscribe(f"/contractMarket/level2:{symbol}")
        )
        private = await kucoin.connect(
            client,
            store,
            private=True,
            futures=True,
            send_json=[
                subscribe("/contractMarket/tradeOrders", True),
                subscribe("/contract/positionAll", True),
            ],
        )
        await fake.wait_for_connections(2)
        await settle(fake, lambda: store.orderbook.is_synced(symbol))
        fake.tick(10)
        assert await caught_up(store, fake, symbol) == []
        fake.skip_sequence(symbol, 2)
        await settle(fake, lambda: store.orderbook.status(symbol).gaps == 1)
        await settle(fake, lambda: store.orderbook.is_synced(symbol))
        assert await caught_up(store, fake, symbol) == []

        order = {"clientOid": "c1", "side": "buy", "symbol": symbol, "type": "limit"}
        order |= {"price": "29000", "size": 3}
        placed = await client.fetch(
            "POST", "https://api-futures.kucoin.com/api/v1/orders", data=order
        )
        assert placed.response.status == 200
        order_id = placed.data["data"]["orderId"]
        await until(lambda: store.orders.get({"orderId": order_id}) is not None)
        fake.fill_order(int(order_id), "1")
        await until(lambda: store.orders.get({"orderId": order_id})["remainSize"] == "2")  # type: ignore[index]
        fake.cancel_order(int(order_id))
        await until(lambda: store.orders.get({"orderId": order_id}) is None)
        fake.set_position(symbol, "-2", "30010")
        await until(lambda: store.positions.get({"symbol": symbol}) is not None)
        assert store.positions.get({"symbol": symbol})["side"] == "SELL"  # type: ignore[index]
        await public.close()
        await private.close()


async def test_uta_obu_book_resubscribes_after_a_gap() -> None:
    symbol = "BTC-USDT"
    request = {"id": "b", "action": "SUBSCRIBE", "channel": "obu", "tradeType": "SPOT"}
    request |= {"symbol": symbol, "depth": "increment@10ms"}
    async with (
        FakeExchange("kucoin-spot", seed=5, rate=0) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        store = KuCoinDataStore()
        app = await client.ws_connect(
            "wss://x-push-spot.kucoin.com", send_json=request, hdlr_json=store.onmessage
        )
        await fake.wait_for_connections(1)
        await until(lambda: store.orderbook.is_synced(symbol))
        fake.tick(10)
        assert await caught_up(store, fake, symbol) == []
        fake.skip_sequence(symbol)
        fake.tick(2)
        await until(lambda: store.orderbook.status(symbol).gaps == 1)
        await until(lambda: store.orderbook.is_synced(symbol))  # the new snapshot
        fake.tick(5)
        assert await caught_up(store, fake, symbol) == []

        fake.drop_connections()
        await until(lambda: store.orderbook.status(symbol).resyncs == 2)
        await fake.wait_for_connections(1)
        await until(lambda: store.orderbook.is_synced(symbol))
        fake.tick(5)
        assert await caught_up(store, fake, symbol) == []
        assert store.statistics().dropped == {}
        await app.close()


async def test_private_bullet_and_signed_requests_pass_the_verifier() -> None:
    async with FakeExchange("kucoin-spot", rate=0) as fake:
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            store = KuCoinDataStore()
            bullet = await kucoin.fetch_bullet(client, store, private=True)
            assert bullet.private
            assert "token=fake-private-" in store.endpoint
        wrong = {"kucoin": [fake.api_key, "not-the-secret", fake.api_passphrase]}
        async with Client(apis=wrong, redirects=fake.redirects) as client:
            response = await client.fetch(
                "POST", "https://api.kucoin.com/api/v1/bullet-private", data={}
            )
            assert response.response.status == 401
            assert response.data["code"] == "400005"
