"""``await book.wait_synced(symbol, timeout=..., min_update_id=...)`` on every order-book
store, against a fake exchange and hand-fed messages; the timeout names the symbol."""

from __future__ import annotations

import asyncio
import inspect

import pytest

import datastores
from datastores import Client, DataStoreCollection, OrderBookStore
from datastores.exchanges.binance.store import BinanceSpotDataStore
from datastores.exchanges.okx.store import OKXDataStore
from datastores.testing import FakeExchange

SYMBOL = "BTCUSDT"


def _diff(first: int, last: int) -> dict[str, object]:
    return {"e": "depthUpdate", "E": 1, "s": SYMBOL, "U": first, "u": last,
            "b": [["100.0", "1.0"]], "a": []}  # fmt: skip


def _collections() -> list[type[DataStoreCollection]]:
    classes = (getattr(datastores, name) for name in datastores.__all__)
    return [c for c in classes if inspect.isclass(c) and issubclass(c, DataStoreCollection)]


def test_every_book_store_of_every_collection_has_wait_synced() -> None:
    books = 0
    for cls in _collections():
        for store in cls().stores.values():
            if hasattr(store, "status") and hasattr(store, "is_synced"):
                assert isinstance(store, OrderBookStore), (cls.__name__, store.name)
                assert inspect.iscoroutinefunction(store.wait_synced)
                books += 1
    assert books >= 12


async def test_returns_at_once_when_synced_and_waits_for_the_snapshot_otherwise() -> None:
    store = BinanceSpotDataStore()
    store.orderbook.resync_hook = lambda symbol: None  # the snapshot is handed over below
    store.onmessage(_diff(101, 101))
    waiter = asyncio.ensure_future(store.orderbook.wait_synced(SYMBOL, timeout=10))
    await asyncio.sleep(0)
    assert not waiter.done()
    store.orderbook._on_depth_snapshot(
        SYMBOL, {"lastUpdateId": 100, "bids": [["99.0", "1.0"]], "asks": [["101.0", "1.0"]]}
    )
    status = await waiter
    assert (status.symbol, status.synced, status.last_update_id) == (SYMBOL, True, 101)
    again = await store.orderbook.wait_synced(SYMBOL, timeout=0)
    assert again.synced


async def test_min_update_id_waits_for_that_update() -> None:
    store = BinanceSpotDataStore()
    store.orderbook.resync_hook = lambda symbol: None
    store.orderbook._on_depth_snapshot(SYMBOL, {"lastUpdateId": 100, "bids": [], "asks": []})
    waiter = asyncio.ensure_future(store.orderbook.wait_synced(SYMBOL, min_update_id=103))
    store.onmessage(_diff(101, 102))
    await asyncio.sleep(0)
    assert not waiter.done()  # synced, but at 102
    store.onmessage(_diff(103, 103))
    assert (await waiter).last_update_id == 103


async def test_timeout_names_the_symbol_and_its_status() -> None:
    store = BinanceSpotDataStore()
    store.orderbook.resync_hook = lambda symbol: None
    store.onmessage(_diff(101, 101))
    store.onmessage(_diff(102, 102))
    with pytest.raises(TimeoutError) as raised:
        await store.orderbook.wait_synced(SYMBOL, timeout=0.01)
    message = str(raised.value)
    assert f"orderbook {SYMBOL}: not synced within 0.01 s" in message
    assert "synced=False" in message
    assert "buffered=2" in message
    with pytest.raises(TimeoutError, match=r"ETHBTC: no message for it within 0 s"):
        await store.orderbook.wait_synced("ETHBTC", timeout=0)


async def test_the_docs_example_catches_up_after_a_gap_binance() -> None:
    async with (
        FakeExchange("binance-spot", seed=1, rate=0, levels=200) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        store = BinanceSpotDataStore()
        await client.ws_connect(
            "wss://stream.binance.com:9443/ws/btcusdt@depth@100ms", hdlr_json=store.onmessage
        )
        await store.initialize(
            client.get("https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000")
        )
        fake.tick(50)
        fake.skip_sequence(SYMBOL)
        fake.tick(10)
        status = await store.orderbook.wait_synced(
            SYMBOL, timeout=20, min_update_id=fake.book(SYMBOL).last_update_id
        )
        assert status.gaps == 1
        sides = store.orderbook.sorted({"s": SYMBOL})
        bids = {i["p"]: i["q"] for i in sides["b"]}
        asks = {i["p"]: i["q"] for i in sides["a"]}
        assert fake.book(SYMBOL).differences(bids, asks, depth=100) == []


async def test_a_book_that_syncs_from_its_subscription_okx() -> None:
    async with (
        FakeExchange("okx", symbols=["BTC-USDT"], rate=0, levels=50) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        fake.venues["okx-demo"].paused = True
        store = OKXDataStore()
        store.client = client
        await client.ws_connect(
            "wss://ws.okx.com:8443/ws/v5/public",
            send_json={"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]},
            hdlr_json=store.onmessage,
        )
        status = await store.books.wait_synced("BTC-USDT", timeout=20)
        assert status.synced
        assert status.asks > 0
        assert status.bids > 0
