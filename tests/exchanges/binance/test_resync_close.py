"""Binance depth books: a refetch that wakes while its Client closes, and a depth
update whose side is not a list.

``Client.close()`` marks the client closed, then stops its background owners one by
one (latest registered first). A refetch that wakes up meanwhile meets a closed
client; it must leave the symbol for the collection's next client, like a refetch
cancelled by ``aclose()`` does."""

from __future__ import annotations

import asyncio

from datastores.exchanges.binance.store import BinanceSpotDataStore

from .test_tasks import (
    Binance,
    RecordingClock,
    binance,  # noqa: F401  (the fixture)
    diff,
    snap,
    spot_client,
    wait_until,
)


class LateCloser:
    """Background work registered after the store's (a WebSocketApp, say): closed
    first, and while it closes, time passes and the store's refetch wakes up."""

    def __init__(self, clock: RecordingClock) -> None:
        self.clock = clock

    async def aclose(self) -> None:
        self.clock.advance(1.0)
        for _ in range(20):
            await asyncio.sleep(0)


async def test_a_refetch_woken_while_its_client_closes_is_resumed_by_the_next_client(
    binance: Binance,  # noqa: F811
) -> None:
    binance.depth = [(500, {"code": -1001, "msg": "Internal error."}), (200, snap(100))]
    clock = RecordingClock(auto=False)
    store = BinanceSpotDataStore()
    async with spot_client(binance, clock) as client:
        store.client = client
        store.onmessage(diff(100, 101, asks=[("2.0", "7")]))
        await wait_until(lambda: clock.slept == [1.0])  # backing off after the 500
        client.add_closer(LateCloser(clock))
    # The refetch woke while the client was closed: it used to die with RuntimeError
    # (not a retryable error), leaving the symbol waiting for a snapshot forever.
    assert store._recovery.in_flight == frozenset()
    assert not store.orderbook.is_synced("BNBBTC")
    async with spot_client(binance) as client:
        store.client = client
        await wait_until(lambda: store.orderbook.is_synced("BNBBTC"))
    assert store.orderbook.levels("BNBBTC")[0] == [["2.0", "7"]]


def test_a_depth_update_with_a_null_side_unsyncs_the_book() -> None:
    """``"a": null`` used to be taken for "no ask changes": bids applied, ``u`` taken,
    the book synced without the asks' changes."""
    store = BinanceSpotDataStore()
    store.orderbook.resync_hook = lambda symbol: None
    store.orderbook._on_depth_snapshot(
        "BNBBTC", {"lastUpdateId": 100, "bids": [["1.0", "5"]], "asks": [["2.0", "5"]]}
    )
    store.onmessage(diff(101, 101, bids=[("1.0", "6")]))
    assert store.orderbook.is_synced("BNBBTC")
    bad = diff(102, 102, bids=[("1.0", "7")])
    bad["a"] = None
    store.onmessage(bad)
    status = store.orderbook.status("BNBBTC")
    assert not status.synced
    assert status.errors == 1
