"""End to end against the fake Binance venues (datastores.testing.FakeExchange): a real
Client and WebSocketApp on loopback; the local book is compared with the exchange's own
after sequence gaps, dropped connections, rate limits and malformed frames."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from _faketools import caught_up, settle

from datastores._client import Client
from datastores.exchanges.binance.store import BinanceSpotDataStore, BinanceUSDSMDataStore
from datastores.testing import FakeExchange, VirtualClock


@pytest.fixture
async def spot() -> AsyncIterator[FakeExchange]:
    async with FakeExchange("binance-spot", seed=7, rate=0, levels=300) as exchange:
        yield exchange


@pytest.fixture
async def usdsm() -> AsyncIterator[FakeExchange]:
    async with FakeExchange("binance-usdsm", seed=7, rate=0, levels=300) as exchange:
        yield exchange


async def test_spot_book_stays_true_through_faults(spot: FakeExchange) -> None:
    fake = spot
    store = BinanceSpotDataStore()
    symbol, venue = "BTCUSDT", "binance-spot"
    async with Client(
        apis=fake.apis, redirects=fake.redirects, clock=VirtualClock(settle=0.002)
    ) as client:
        store.client = client
        app = await client.ws_connect(
            "wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms",
            hdlr_json=store.onmessage,
        )
        await settle(fake, lambda: store.orderbook.is_synced(symbol))
        fake.tick(20)
        assert await caught_up(store, fake, symbol, venue) == []

        # A sequence gap: detected, counted, snapshot refetched by the store.
        fake.skip_sequence(symbol, 3)
        fake.tick(4)
        await fake.drain()
        await settle(fake, lambda: store.orderbook.status(symbol).gaps == 1)
        await settle(fake, lambda: store.orderbook.is_synced(symbol))
        fake.tick(5)
        assert await caught_up(store, fake, symbol, venue) == []

        # A dropped connection while the snapshot endpoint is rate limited.
        fake.fail_rest(429, times=2, path="/api/v3/depth")
        fake.drop_connections()
        await settle(fake, lambda: not store.orderbook.is_synced(symbol))
        await settle(fake, lambda: store.orderbook.is_synced(symbol))
        fake.tick(5)
        assert await caught_up(store, fake, symbol, venue) == []

        # Malformed, unknown and truncated frames: dropped and counted, book intact.
        fake.send_malformed(symbol)
        fake.send_unknown_channel(symbol)
        fake.send_truncated()
        await settle(fake, lambda: store.handler_errors == 1 and store.orderbook.is_synced(symbol))
        fake.tick(5)
        assert await caught_up(store, fake, symbol, venue) == []

        status = store.orderbook.status(symbol)
        assert status.gaps == 1
        assert status.errors == 1
        assert sum(store.unhandled.values()) == 1
        await app.close()


async def test_usdsm_book_and_listenkey_expiry(usdsm: FakeExchange) -> None:
    fake = usdsm
    store = BinanceUSDSMDataStore()
    symbol, venue = "BTCUSDT", "binance-usdsm"
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        await store.initialize(client.post("https://fapi.binance.com/fapi/v1/listenKey"))
        first_key = store.listenkey
        assert first_key
        private = await client.ws_connect(
            f"wss://fstream.binance.com/private/ws/{first_key}", hdlr_json=store.onmessage
        )
        store.listenkey_app = private
        market = await client.ws_connect(
            "wss://fstream.binance.com/public/ws/btcusdt@depth@100ms",
            hdlr_json=store.onmessage,
        )
        await settle(fake, lambda: store.orderbook.is_synced(symbol))
        fake.tick(10)
        assert await caught_up(store, fake, symbol, venue) == []

        # The key expires: the store creates a new one and points the app at it.
        fake.expire_listen_key(venue=venue)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while store.listenkey == first_key or first_key in str(private.url):
            assert loop.time() < deadline, "listenKey not renewed"
            await asyncio.sleep(0.005)
        assert store.listenkey is not None
        assert str(private.url).endswith(store.listenkey)
        # The app reconnects with the new key; account events then flow again.
        new_key = store.listenkey
        while private.current_ws is None or not str(private.current_ws.url).endswith(new_key):
            assert loop.time() < deadline + 5.0, "the app did not reconnect with the new key"
            await asyncio.sleep(0.005)
        order = fake.place_order(symbol, "BUY", "0.010", "1000", venue=venue)
        while store.order.get({"s": symbol, "i": order.order_id}) is None:
            assert loop.time() < deadline + 5.0, "order event not received"
            await asyncio.sleep(0.005)
        await market.close()
        await private.close()


async def test_spot_user_data_through_the_websocket_api(spot: FakeExchange) -> None:
    fake = spot
    store = BinanceSpotDataStore()
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        # The WebSocket layer signs the request (apiKey, timestamp, signature).
        app = await client.ws_connect(
            "wss://ws-api.binance.com:443/ws-api/v3",
            send_json={"id": 1, "method": "userDataStream.subscribe.signature", "params": {}},
            hdlr_json=store.onmessage,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while not store._subscriptions:
            assert loop.time() < deadline, "no subscription reply"
            await asyncio.sleep(0.005)
        fake.set_balance("USDT", "1000", "0")
        order = fake.place_order("BTCUSDT", "BUY", "0.010", "1000")
        other = fake.place_order("BTCUSDT", "SELL", "0.020", "90000")
        fake.fill_order(order.order_id, "0.004")
        fake.cancel_order(other.order_id)
        await fake.drain()

        def done() -> bool:
            kept = store.order.get({"s": "BTCUSDT", "i": order.order_id})
            return (
                kept is not None
                and kept["X"] == "PARTIALLY_FILLED"
                and store.order.get({"s": "BTCUSDT", "i": other.order_id}) is None
                and store.account.get({"a": "USDT"}) is not None
            )

        while not done():
            assert loop.time() < deadline, f"account events not all received: {store.order.find()}"
            await asyncio.sleep(0.005)
        kept = store.order.get({"s": "BTCUSDT", "i": order.order_id})
        assert kept is not None
        assert kept["X"] == "PARTIALLY_FILLED"
        assert kept["z"] == "0.004"
        assert store.account.get({"a": "USDT"}) == {"a": "USDT", "f": "1000", "l": "0"}
        assert store.unhandled == {}
        await app.close()
