"""End to end against the fake BitMEX (datastores.testing.FakeExchange("bitmex")): the real
Client, WebSocketApp and BitMEXDataStore on loopback. The book is compared with the exchange's
own after a lost insert, a lost delete, re-partials, a dropped connection and bad frames;
private tables follow orders placed through the signed REST API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from _e2e import until

from datastores import BitMEXDataStore
from datastores._client import Client
from datastores._ws import Backoff
from datastores.testing import FakeExchange
from datastores.testing.profiles.bitmex.profile import BitmexProfile

SYMBOL = "XBTUSD"
WS = "wss://ws.bitmex.com/realtime"
REST = "https://www.bitmex.com/api/v1"
FAST = Backoff(initial=0.01, maximum=0.05)


def profile(fake: FakeExchange) -> BitmexProfile:
    found = fake.venues["bitmex"].profile
    assert isinstance(found, BitmexProfile)
    return found


async def tick_until(fake: FakeExchange, condition: Callable[[], bool], limit: int = 3000) -> None:
    """Publish one update at a time until ``condition()`` holds (a loss shows only when
    a later message touches the lost row)."""
    for _ in range(limit):
        if condition():
            return
        fake.tick(1, SYMBOL)
        await fake.drain()
        await asyncio.sleep(0.001)
    raise AssertionError("condition not reached")


async def differences(store: BitMEXDataStore, fake: FakeExchange) -> list[str]:
    """Wait until the store applied every L2 message sent, then compare whole books."""
    await fake.drain()

    def done() -> bool:
        status = store.orderbook.status(SYMBOL)
        return status.synced and status.last_update_id == profile(fake).position(SYMBOL)

    await until(done)
    store.orderbook._check()
    asks, bids = store.orderbook.levels(SYMBOL)
    truth = fake.book(SYMBOL)
    depth = max(len(truth.bids), len(truth.asks))
    return truth.differences(
        {str(p): str(s) for p, s, *_ in bids}, {str(p): str(s) for p, s, *_ in asks}, depth
    )


async def test_book_heals_after_lost_messages_repartials_drops_and_bad_frames() -> None:
    async with (
        FakeExchange("bitmex", seed=5, rate=0, levels=150) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        store = BitMEXDataStore()
        await client.ws_connect(
            WS,
            send_json={"op": "subscribe", "args": [f"orderBookL2:{SYMBOL}", f"trade:{SYMBOL}"]},
            hdlr_json=store.onmessage,
            backoff=FAST,
        )
        await until(lambda: store.orderbook.is_synced(SYMBOL))
        fake.tick(40)
        assert await differences(store, fake) == []
        assert len(store.trade) > 0

        # A lost insert: caught when the row is next updated or deleted; resubscribed.
        fake.skip_sequence(SYMBOL)
        await tick_until(fake, lambda: store.orderbook.status(SYMBOL).gaps == 1)
        await until(lambda: store.orderbook.is_synced(SYMBOL))
        fake.tick(20)
        assert await differences(store, fake) == []
        ops = [(op, args) for _, op, args in profile(fake).operations]
        topic = f"orderBookL2:{SYMBOL}"
        assert ops[-2:] == [("unsubscribe", (topic,)), ("subscribe", (topic,))]

        # A lost delete: caught when the price gets a row again.
        profile(fake).lose_next(SYMBOL, "delete")
        await tick_until(fake, lambda: store.orderbook.status(SYMBOL).gaps == 2)
        assert "already in the table" in (store.orderbook.status(SYMBOL).last_error or "")
        await until(lambda: store.orderbook.is_synced(SYMBOL))

        # A lost update cannot be seen; the next re-partial heals it.
        profile(fake).lose_next(SYMBOL, "update")
        fake.tick(5)
        profile(fake).repartial_every = 10
        fake.tick(10)
        assert await differences(store, fake) == []
        profile(fake).repartial_every = 0

        # Bad frames are dropped and counted, the book untouched.
        fake.send_malformed(SYMBOL)
        fake.send_unknown_channel(SYMBOL)
        fake.tick(3)
        assert await differences(store, fake) == []
        stats = store.statistics()
        assert stats.dropped == {"orderBookL2: data is not a list": 1}
        assert stats.unhandled == {"fakeUnknownTable": 1}

        # A dropped connection: unsynced, the new connection's partial resyncs it.
        reconnected = store.orderbook.status(SYMBOL).resyncs
        fake.drop_connections()
        await until(lambda: store.orderbook.status(SYMBOL).resyncs > reconnected)
        await until(lambda: store.orderbook.is_synced(SYMBOL))
        fake.tick(10)
        assert await differences(store, fake) == []
        assert store.orderbook.status(SYMBOL).gaps == 2
        assert store.handler_errors == 0


async def test_update_rows_with_prices_and_orderbook10() -> None:
    async with (
        FakeExchange("bitmex", seed=2, rate=0, levels=60) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        profile(fake).update_prices = True
        store = BitMEXDataStore()
        args = [f"orderBookL2:{SYMBOL}", f"orderBook10:{SYMBOL}", f"quote:{SYMBOL}", "instrument"]
        await client.ws_connect(
            WS, send_json={"op": "subscribe", "args": args}, hdlr_json=store.onmessage
        )
        await until(lambda: store.orderbook.is_synced(SYMBOL) and len(store.instrument) == 2)
        fake.tick(30)
        assert await differences(store, fake) == []
        image = store.orderbook10.get({"symbol": SYMBOL})
        assert image is not None
        asks, bids = store.orderbook.levels(SYMBOL, 10)
        assert image["asks"] == [[p, s] for p, s, *_ in asks]
        assert image["bids"] == [[p, s] for p, s, *_ in bids]
        assert store.quote.find()[-1]["bidPrice"] == bids[0][0]


async def test_private_tables_follow_orders_placed_through_rest() -> None:
    async with (
        FakeExchange("bitmex", seed=1, rate=0, levels=20) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        fake.set_balance("XBt", "100000000", "0")
        store = BitMEXDataStore()
        await client.ws_connect(
            WS,
            send_json={
                "op": "subscribe",
                "args": ["order", "execution", "position", "margin", "wallet"],
            },
            hdlr_json=store.onmessage,
        )
        await until(lambda: len(store.margin) == 1 and len(store.wallet) == 1)
        response = await client.post(
            f"{REST}/order",
            data={"symbol": SYMBOL, "side": "Buy", "orderQty": 100, "price": 60000, "clOrdID": "a"},
        )
        placed = await response.json()
        assert response.status == 200, placed
        await until(lambda: len(store.order) == 1)
        assert store.order.find()[0]["clOrdID"] == "a"
        number = next(iter(fake.venues["bitmex"].account.orders))
        fake.fill_order(number, "40", "60000")
        await until(lambda: store.order.find()[0].get("cumQty") == 40)
        cancel = await client.delete(f"{REST}/order", data={"orderID": placed["orderID"]})
        assert cancel.status == 200
        await until(lambda: len(store.order) == 0)
        assert [e["execType"] for e in store.execution.find()] == ["New", "Trade", "Canceled"]
        fake.set_position(SYMBOL, "40", "60000")
        await until(lambda: len(store.position) == 1)
        assert store.position.find()[0]["currentQty"] == 40

        # initialize() from the signed REST endpoints gives the same state.
        fresh = BitMEXDataStore()
        await fresh.initialize(
            client.get(f"{REST}/order"),
            client.get(f"{REST}/position"),
            client.get(f"{REST}/user/margin"),
            client.get(f"{REST}/user/wallet"),
        )
        assert len(fresh.order) == 0
        assert [p["currentQty"] for p in fresh.position.find()] == [40]
        assert fresh.margin.get({"account": 123456, "currency": "XBt"}) is not None


async def test_private_tables_need_a_signed_connection() -> None:
    async with (
        FakeExchange("bitmex", seed=1, rate=0, levels=20) as fake,
        Client(redirects=fake.redirects) as client,
    ):
        store = BitMEXDataStore()
        await client.ws_connect(
            WS, send_json={"op": "subscribe", "args": ["order"]}, hdlr_json=store.onmessage
        )
        await until(lambda: store.failed_requests == 1)
        assert len(store.order) == 0
