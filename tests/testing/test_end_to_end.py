"""The real Client, WebSocketApp and BinanceSpotDataStore against the fake exchange:
the book heals after a sequence gap and a dropped connection, and equals the truth."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from datastores._client import Client
from datastores.exchanges.binance.store import BinanceSpotDataStore
from datastores.testing import FakeExchange

SYMBOL = "BTCUSDT"


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


def _caught_up(store: BinanceSpotDataStore, fake: FakeExchange) -> Callable[[], bool]:
    def check() -> bool:
        status = store.orderbook.status(SYMBOL)
        return status.synced and status.last_update_id == fake.book(SYMBOL).last_update_id

    return check


def _differences(store: BinanceSpotDataStore, fake: FakeExchange) -> list[str]:
    sides = store.orderbook.sorted({"s": SYMBOL})
    bids = {item["p"]: item["q"] for item in sides["b"]}
    asks = {item["p"]: item["q"] for item in sides["a"]}
    return fake.book(SYMBOL).differences(bids, asks, depth=100)


async def test_book_heals_after_gap_and_disconnect() -> None:
    async with (
        FakeExchange("binance-spot", symbols=[SYMBOL], rate=0, levels=400) as fake,
        Client(redirects=fake.redirects) as client,
    ):
        store = BinanceSpotDataStore()
        await client.ws_connect(
            "wss://stream.binance.com:9443/ws/btcusdt@depth@100ms", hdlr_json=store.onmessage
        )
        await fake.wait_for_connections(1)
        await store.initialize(
            client.get("https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000")
        )
        fake.tick(100)
        await _until(_caught_up(store, fake))
        assert _differences(store, fake) == []

        fake.skip_sequence(SYMBOL)
        fake.tick(50)
        await _until(_caught_up(store, fake))
        status = store.orderbook.status(SYMBOL)
        assert status.gaps == 1
        assert status.resyncs >= 1
        assert _differences(store, fake) == []
        store.orderbook._check()

        resyncs = status.resyncs
        fake.drop_connections()
        await _until(lambda: fake.venues["binance-spot"].stats.connections_opened == 2)
        fake.tick(50)
        await _until(_caught_up(store, fake))
        assert store.orderbook.status(SYMBOL).resyncs > resyncs
        assert _differences(store, fake) == []
        depth_requests = [r for r in fake.requests() if r.path == "/api/v3/depth"]
        assert len(depth_requests) >= 3
