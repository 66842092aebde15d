"""The whole path with a real store: a fake Binance over a real WebSocket feeds a
BinanceSpotDataStore, its relay publishes through nats-server, a mirror in the
same process rebuilds it through a gap and a reconnect."""

from __future__ import annotations

from typing import Any

from datastores import BinanceSpotDataStore
from datastores._client import Client
from datastores.apps.relay import Mirror, Relay
from datastores.apps.relay._server import LocalNatsServer
from datastores.testing import FakeExchange

from ._harness import Origin, Watcher, converged, until

SYMBOL = "BTCUSDT"


async def test_binance_book_through_gap_and_reconnect(nats_server: LocalNatsServer) -> None:
    def relay(collection: Any) -> Relay:
        return Relay(collection, servers=nats_server.url, heartbeat_interval=0.1)

    mirror = Mirror(BinanceSpotDataStore, servers=nats_server.url, stale_after=1.0)
    assert mirror.names.root == "datastores.binance"
    watcher = Watcher(mirror)
    async with (
        FakeExchange("binance-spot", symbols=[SYMBOL], rate=0, levels=200) as fake,
        Client(redirects=fake.redirects) as client,
        Origin(relay, BinanceSpotDataStore()) as origin,
        mirror,
    ):
        watcher.follow(origin)
        store = origin.collection
        app = await client.ws_connect(
            "wss://stream.binance.com:9443/ws/btcusdt@depth", hdlr_json=store.onmessage
        )
        await fake.wait_for_connections(1)
        await store.initialize(client.get("https://api.binance.com/api/v3/depth?symbol=BTCUSDT"))

        def caught_up() -> bool:
            status = store.orderbook.status(SYMBOL)
            return bool(status.synced and status.last_update_id == fake.book(SYMBOL).last_update_id)

        for fault in (None, "gap", "reconnect"):
            if fault == "gap":
                fake.skip_sequence(SYMBOL)
            elif fault == "reconnect":
                resyncs = store.orderbook.status(SYMBOL).resyncs
                fake.drop_connections()
                await until(lambda n=resyncs: store.orderbook.status(SYMBOL).resyncs > n)
            fake.tick(30)
            await until(caught_up)
            await converged(origin, mirror)
            assert mirror.orderbook.is_synced(SYMBOL)
        await app.close()
        # The same read API as the origin's.
        assert mirror.orderbook.sorted({"s": SYMBOL}, 5) == store.orderbook.sorted({"s": SYMBOL}, 5)
        assert mirror["orderbook"].find({"s": SYMBOL}) == store.orderbook.find({"s": SYMBOL})
        bid = store.orderbook.sorted({"s": SYMBOL}, 1)["b"][0]
        assert mirror.orderbook.get(bid) == bid
    assert watcher.violations == []
    assert watcher.synced_checks >= 3  # at least once per stage
    # The origin's own faults are not the mirror's: no lost message, no resync.
    assert mirror.status().gaps == 0
    assert mirror.status().resyncs == 0


async def test_mirror_wait_and_watch(nats_server: LocalNatsServer) -> None:
    """``wait()`` and ``watch()`` on a mirror wake on relayed changes."""
    import asyncio

    def relay(collection: Any) -> Relay:
        return Relay(collection, servers=nats_server.url, heartbeat_interval=0.1)

    async with (
        Origin(relay) as origin,
        Mirror(type(origin.collection), servers=nats_server.url, name="plain") as mirror,
    ):
        assert await mirror.wait_synced(10)
        waiter = asyncio.create_task(mirror.wait())
        async with mirror.items.watch() as stream:
            await asyncio.sleep(0)
            origin.collection.onmessage({"op": "insert", "data": [{"id": 1, "v": "x"}]})
            change = await asyncio.wait_for(stream.get(), 10)
        await asyncio.wait_for(waiter, 10)
        assert change.operation == "insert"
        assert change.data == {"id": 1, "v": "x"}
        assert mirror.items.get({"id": 1}) == {"id": 1, "v": "x"}
