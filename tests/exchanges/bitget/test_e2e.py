"""End to end against the fake Bitget (datastores.testing.FakeExchange("bitget")): the real
Client, WebSocketApp and Bitget stores on loopback. Books must equal the exchange's after a
corrupted checksum, a withheld update, dropped connections, malformed frames and silent pings;
private pushes and signed REST must agree with the scripted account."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from _e2e import until

from datastores._client import Client
from datastores._errors import ExchangeAPIError, RateLimitError, WebSocketAuthError
from datastores._ws import WebSocketApp
from datastores.exchanges.bitget.store import BitgetV2DataStore
from datastores.exchanges.bitget.store_v1 import BitgetDataStore
from datastores.testing import FakeExchange, VirtualClock

PUBLIC = "wss://ws.bitget.com/v2/ws/public"
PRIVATE = "wss://ws.bitget.com/v2/ws/private"
V1 = "wss://ws.bitget.com/mix/v1/stream"
REST = "https://api.bitget.com"
SPOT, FUT = "SPOT:BTCUSDT", "USDT-FUTURES:BTCUSDT"
_tokens = itertools.count(1)


def subscribe(*args: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "op": "subscribe",
        "args": [{"instType": t, "channel": c, "instId": i} for t, c, i in args],
    }


class Spy:
    """A second handler: records the events the store ignores (acks, barriers)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, msg: Any, ws: Any) -> None:
        if isinstance(msg, dict) and "event" in msg:
            self.events.append(msg)

    def saw(self, event: str, **arg: str) -> int:
        return sum(
            1
            for m in self.events
            if m["event"] == event and arg.items() <= (m.get("arg") or {}).items()
        )


async def barrier(fake: FakeExchange, spy: Spy) -> None:
    """Return once the client has handled everything the fake sent so far: a marker
    (an event the stores ignore) sent after it has arrived."""
    token = str(next(_tokens))
    await fake.drain()
    fake.send_raw('{"event":"subscribe","arg":{"barrier":"' + token + '"}}')
    await until(lambda: spy.saw("subscribe", barrier=token) > 0)


def v2_sides(store: BitgetV2DataStore, key: str) -> tuple[dict[str, str], dict[str, str]]:
    inst_type, inst_id = key.split(":")
    sides = store.book.sorted({"instType": inst_type, "instId": inst_id})
    return (
        {i["price"]: i["amount"] for i in sides["bids"]},
        {i["price"]: i["amount"] for i in sides["asks"]},
    )


def v1_sides(store: BitgetDataStore, inst_id: str) -> tuple[dict[str, str], dict[str, str]]:
    sides = store.orderbook.sorted({"instId": inst_id})
    return (
        {i["px"]: i["sz"] for i in sides["bids"]},
        {i["px"]: i["sz"] for i in sides["asks"]},
    )


async def assert_v2_book_true(
    store: BitgetV2DataStore, fake: FakeExchange, spy: Spy, key: str
) -> None:
    fake.tick(5)
    await barrier(fake, spy)
    truth = fake.book(key)
    status = store.book.status(key)
    assert status.synced
    assert status.last_update_id == truth.last_update_id  # the seq of the last update
    bids, asks = v2_sides(store, key)
    # v2 ``books`` is the whole book: every level, as the exchange prints it.
    assert (bids, asks) == (truth.bids, truth.asks)
    store.book._check()


async def test_v2_books_recover_from_every_fault() -> None:
    async with FakeExchange("bitget", seed=11, rate=0, levels=150, symbols=[SPOT, FUT]) as fake:
        venue = fake.venues["bitget"]
        async with Client(redirects=fake.redirects, clock=VirtualClock(settle=0.002)) as client:
            store, spy = BitgetV2DataStore(), Spy()
            store.client = client
            app = await client.ws_connect(
                PUBLIC,
                send_json=subscribe(
                    ("SPOT", "books", "BTCUSDT"), ("USDT-FUTURES", "books", "BTCUSDT")
                ),
                hdlr_json=[store.onmessage, spy],
            )
            await until(lambda: store.book.is_synced(SPOT) and store.book.is_synced(FUT))
            for key in (SPOT, FUT):
                await assert_v2_book_true(store, fake, spy, key)

            # A corrupted checksum: detected, the book is resubscribed and heals.
            fake.corrupt_checksum(SPOT)
            fake.tick(1)
            await until(
                lambda: (
                    store.book.status(SPOT).checksum_failures == 1 and store.book.is_synced(SPOT)
                )
            )
            assert spy.saw("unsubscribe", instType="SPOT", channel="books") == 1
            await assert_v2_book_true(store, fake, spy, SPOT)

            # A withheld update (seq still increases): the next checksum catches it.
            fake.skip_sequence(FUT)
            fake.tick(2)
            await until(
                lambda: store.book.status(FUT).checksum_failures == 1 and store.book.is_synced(FUT)
            )
            await assert_v2_book_true(store, fake, spy, FUT)
            assert venue.faults.fired == {"corrupt_checksum": 1, "skip_sequence": 1}
            assert store.book.status(FUT).gaps == 0  # seq only has to increase

            # A dropped connection: the app reconnects, the books are invalidated and
            # the re-sent subscriptions bring new snapshots.
            fake.drop_connections()
            await until(lambda: app.statistics().reconnects == 1)
            await until(lambda: store.book.is_synced(SPOT) and store.book.is_synced(FUT))
            assert venue.stats.connections_opened == 2
            for key in (SPOT, FUT):
                await assert_v2_book_true(store, fake, spy, key)

            # Malformed, unknown-channel and truncated frames: dropped and counted.
            assert fake.send_malformed(SPOT) == 1
            fake.send_unknown_channel(FUT)
            fake.send_truncated()
            await until(lambda: store.book.status(SPOT).errors == 1 and store.book.is_synced(SPOT))
            await assert_v2_book_true(store, fake, spy, SPOT)
            await assert_v2_book_true(store, fake, spy, FUT)
            assert store.dropped_messages == 1
            assert app.statistics().undecodable == 1
            assert store.book.status(FUT).errors == 0

            # A connection cut after two more messages, mid-stream.
            fake.drop_after(2)
            fake.tick(3)
            await until(lambda: app.statistics().reconnects == 2)
            await until(lambda: store.book.is_synced(SPOT) and store.book.is_synced(FUT))
            for key in (SPOT, FUT):
                await assert_v2_book_true(store, fake, spy, key)
            assert app.statistics().handler_errors == 0
            assert store.error_events == 0


async def test_v1_books_keep_the_exchanges_200_levels_through_faults() -> None:
    # 260 levels per side: the v1 book is the best 200, so levels enter and leave it.
    async with (
        FakeExchange("bitget", seed=5, rate=0, levels=260, symbols=[FUT]) as fake,
        Client(redirects=fake.redirects, clock=VirtualClock(settle=0.002)) as client,
    ):
        store, spy = BitgetDataStore(), Spy()
        store.client = client
        app = await client.ws_connect(
            V1,
            send_json=subscribe(("mc", "books", "BTCUSDT"), ("mc", "ticker", "BTCUSDT")),
            hdlr_json=[store.onmessage, spy],
        )

        async def assert_true() -> None:
            fake.tick(5)
            await barrier(fake, spy)
            assert store.orderbook.is_synced("BTCUSDT")
            bids, asks = v1_sides(store, "BTCUSDT")
            assert len(bids) == len(asks) == 200
            assert fake.book(FUT).differences(bids, asks, depth=200) == []
            store.orderbook._check()

        await until(lambda: store.orderbook.is_synced("BTCUSDT"))
        await assert_true()
        fake.corrupt_checksum(FUT)
        fake.tick(1)
        await until(
            lambda: (
                store.orderbook.status("BTCUSDT").checksum_failures == 1
                and store.orderbook.is_synced("BTCUSDT")
            )
        )
        await assert_true()
        fake.skip_sequence(FUT)
        fake.tick(2)
        await until(
            lambda: (
                store.orderbook.status("BTCUSDT").checksum_failures == 2
                and store.orderbook.is_synced("BTCUSDT")
            )
        )
        await assert_true()
        fake.drop_connections()
        await until(lambda: app.statistics().reconnects == 1)
        await until(lambda: store.orderbook.is_synced("BTCUSDT"))
        await assert_true()
        fake.send_malformed(FUT)
        fake.send_unknown_channel(FUT)
        await until(
            lambda: (
                store.orderbook.status("BTCUSDT").errors == 1
                and store.orderbook.is_synced("BTCUSDT")
            )
        )
        await assert_true()
        assert store.dropped_messages == 1
        assert spy.saw("subscribe", instType="mc", channel="ticker") == 2  # resent once
        [ticker] = store.ticker.find()
        assert ticker["bestBid"] == fake.book(FUT).top(1)[0][0][0]


async def test_silent_pings_are_noticed_and_the_book_recovers() -> None:
    clock = VirtualClock(settle=0.002)
    async with (
        FakeExchange("bitget", seed=2, rate=0, levels=40, symbols=[SPOT], clock=clock) as fake,
        Client(redirects=fake.redirects, clock=clock) as client,
    ):
        store, spy = BitgetV2DataStore(), Spy()
        store.client = client
        app = await client.ws_connect(
            PUBLIC,
            send_json=subscribe(("SPOT", "books", "BTCUSDT")),
            hdlr_json=[store.onmessage, spy],
        )
        await until(lambda: store.book.is_synced(SPOT))
        fake.stop_answering_pings()
        await until(lambda: app.statistics().heartbeat_timeouts >= 1)
        fake.answer_pings()
        timeouts = app.statistics().heartbeat_timeouts
        await until(lambda: app.statistics().reconnects >= timeouts)
        await until(lambda: store.book.is_synced(SPOT) and app.current_ws is not None)
        await assert_v2_book_true(store, fake, spy, SPOT)
        # Answered again: pings get their pongs and the connection stays up.
        before = app.statistics()
        start = clock.monotonic()
        await until(lambda: clock.monotonic() > start + 120)
        after = app.statistics()
        assert (after.reconnects, after.heartbeat_timeouts) == (
            before.reconnects,
            before.heartbeat_timeouts,
        )


async def test_v2_private_pushes_and_rest_follow_the_scripted_account() -> None:
    async with FakeExchange("bitget", seed=3, rate=0, levels=30, symbols=[SPOT, FUT]) as fake:
        resting = fake.place_order(FUT, "BUY", "0.010", "60000.0", client_order_id="r1")
        spot_order = fake.place_order(SPOT, "SELL", "0.5", "70000.00")
        fake.set_position(FUT, "0.02", "64000")
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            store, spy = BitgetV2DataStore(), Spy()
            await store.initialize(
                client.get(f"{REST}/api/v2/mix/order/orders-pending?productType=USDT-FUTURES"),
                client.get(f"{REST}/api/v2/spot/trade/unfilled-orders"),
                client.get(f"{REST}/api/v2/mix/position/all-position?productType=USDT-FUTURES"),
            )
            assert {(o["instType"], o["orderId"]) for o in store.orders.find()} == {
                ("USDT-FUTURES", str(resting.order_id)),
                ("SPOT", str(spot_order.order_id)),
            }
            [seeded] = store.positions.find()
            assert (seeded["posId"], seeded["total"]) == ("rest:USDT:long", "0.02")

            app = await client.ws_connect(
                PRIVATE,
                send_json={
                    "op": "subscribe",
                    "args": [
                        {"instType": "USDT-FUTURES", "channel": c, "instId": "default"}
                        for c in ("orders", "fill", "positions")
                    ]
                    + [
                        {"instType": "USDT-FUTURES", "channel": "account", "coin": "default"},
                        {"instType": "SPOT", "channel": "orders", "instId": "BTCUSDT"},
                    ],
                },
                hdlr_json=[store.onmessage, spy],
            )
            [conn] = fake.connections
            assert conn.state["login"] is True  # the login was verified, then accepted
            assert spy.saw("login") == 1
            # The positions snapshot on subscribe replaces the REST-seeded position.
            await until(lambda: store.positions.find({"posId": "rest:USDT:long"}) == [])
            [live] = store.positions.find()
            assert (live["holdSide"], live["total"], live["openPriceAvg"]) == (
                "long",
                "0.02",
                "64000",
            )

            fake.fill_order(resting.order_id, "0.004", "59999.5")
            fake.set_balance("USDT-FUTURES:USDT", "1000", "25")
            fake.set_position(FUT, "0")
            fake.cancel_order(spot_order.order_id)
            new = fake.place_order(SPOT, "BUY", "0.1", "60000.00")
            await barrier(fake, spy)

            order = store.orders.get(
                {"instType": "USDT-FUTURES", "instId": "BTCUSDT", "orderId": str(resting.order_id)}
            )
            assert order is not None
            assert (order["status"], order["accBaseVolume"]) == ("partially_filled", "0.004")
            [fill] = store.fill.find()
            assert (fill["symbol"], fill["price"], fill["baseVolume"]) == (
                "BTCUSDT",
                "59999.5",
                "0.004",
            )
            assert store.account.get({"instType": "USDT-FUTURES", "coin": "USDT"}) is not None
            assert store.account.find()[0]["available"] == "1000"
            assert store.positions.find() == []  # the push lists no open position
            open_ids = {o["orderId"] for o in store.orders.find()}
            assert open_ids == {
                str(o.order_id) for o in fake.venues["bitget"].account.open_orders()
            }
            assert open_ids == {str(resting.order_id), str(new.order_id)}

            fake.fill_order(resting.order_id)
            await barrier(fake, spy)
            assert {o["orderId"] for o in store.orders.find()} == {str(new.order_id)}
            assert len(store.fill) == 2
            await app.close()


async def test_rest_errors_signatures_and_login_refusals() -> None:
    async with FakeExchange("bitget", seed=4, rate=0, levels=20, symbols=[FUT]) as fake:
        url = f"{REST}/api/v2/mix/order/orders-pending?productType=USDT-FUTURES"
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            store = BitgetV2DataStore()
            fake.fail_rest(429, path="/api/v2/mix/order/orders-pending")
            with pytest.raises(RateLimitError) as limited:
                await store.initialize(client.get(url))
            assert (limited.value.status, limited.value.code) == (429, "429")
            fake.fail_rest(503)
            with pytest.raises(ExchangeAPIError) as failed:
                await store.initialize(client.get(url))
            assert (failed.value.status, failed.value.code) == (503, "40015")
            await store.initialize(client.get(url))  # the faults are spent
            with pytest.raises(ExchangeAPIError) as missing:
                await store.initialize(client.get(url.partition("?")[0]))
            assert missing.value.code == "40019"
        statuses = [r.status for r in fake.requests()]
        assert statuses == [429, 503, 200, 400]

        wrong = {"bitget": [fake.api_key, "not-the-secret", fake.api_passphrase]}
        async with Client(apis=wrong, redirects=fake.redirects) as client:
            with pytest.raises(ExchangeAPIError) as bad_sign:
                await BitgetV2DataStore().initialize(client.get(url))
            assert (bad_sign.value.status, bad_sign.value.code) == (400, "40009")
            with pytest.raises(WebSocketAuthError):
                await client.ws_connect(PRIVATE, hdlr_json=lambda m, ws: None)
        phrase = {"bitget": [fake.api_key, fake.api_secret, "wrong-passphrase"]}
        async with Client(apis=phrase, redirects=fake.redirects) as client:
            with pytest.raises(ExchangeAPIError) as bad_phrase:
                await BitgetV2DataStore().initialize(client.get(url))
            assert bad_phrase.value.code == "40012"
        # A client clock far from the exchange's: the timestamp is refused.
        async with Client(apis=fake.apis, redirects=fake.redirects, clock=VirtualClock()) as client:
            with pytest.raises(ExchangeAPIError) as stale:
                await BitgetV2DataStore().initialize(client.get(url))
            assert stale.value.code == "40008"
        # Private channels need a login; unknown instruments are refused.
        async with Client(redirects=fake.redirects) as client:
            store, spy = BitgetV2DataStore(), Spy()
            app = await client.ws_connect(
                PRIVATE,
                send_json=subscribe(
                    ("USDT-FUTURES", "orders", "default"), ("SPOT", "books", "NOPE")
                ),
                hdlr_json=[store.onmessage, spy],
            )
            await until(lambda: store.error_events == 2)
            codes = sorted(m["code"] for m in spy.events if m["event"] == "error")
            assert codes == [30001, 30004]
            await app.close()


async def test_v1_private_orders_positions_and_rest_open_orders() -> None:
    async with FakeExchange("bitget", seed=6, rate=0, levels=20, symbols=[FUT]) as fake:
        first = fake.place_order(FUT, "BUY", "0.01", "60000.0", client_order_id="c1")
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            store, spy = BitgetDataStore(), Spy()
            await store.initialize(
                client.get(f"{REST}/api/mix/v1/order/current?symbol=BTCUSDT_UMCBL&marginCoin=USDT")
            )
            [seeded] = store.orders.find()
            assert (seeded["instId"], seeded["clOrdId"], seeded["status"], seeded["side"]) == (
                "BTCUSDT_UMCBL",
                "c1",
                "new",
                "buy",
            )
            app = await client.ws_connect(
                V1,
                send_json=subscribe(
                    ("UMCBL", "orders", "default"),
                    ("UMCBL", "positions", "default"),
                    ("UMCBL", "account", "default"),
                ),
                hdlr_json=[store.onmessage, spy],
            )
            assert spy.saw("login") == 1
            await until(lambda: spy.saw("subscribe", channel="account") == 1)
            fake.fill_order(first.order_id, "0.004")
            second = fake.place_order(FUT, "SELL", "0.02", "70000.0", client_order_id="c2")
            fake.set_position(FUT, "0.004", "60000")
            fake.set_balance("USDT-FUTURES:USDT", "500")
            await barrier(fake, spy)
            assert {(o["clOrdId"], o["status"]) for o in store.orders.find()} == {
                ("c1", "partial-fill"),
                ("c2", "new"),
            }
            [position] = store.positions.find()
            assert (position["holdSide"], position["total"]) == ("long", "0.004")
            account = store.account.get({"marginCoin": "USDT"})
            assert account is not None
            assert account["available"] == "500"

            fake.cancel_order(second.order_id)
            fake.set_position(FUT, "-0.01", "61000")  # the long closes, a short opens
            await barrier(fake, spy)
            assert [o["clOrdId"] for o in store.orders.find()] == ["c1"]
            [position] = store.positions.find()
            assert (position["holdSide"], position["total"]) == ("short", "0.01")
            await app.close()


def test_fake_symbols_name_their_inst_type() -> None:
    with pytest.raises(ValueError, match="instType"):
        FakeExchange("bitget", symbols=["BTCUSDT"])


async def test_v2_books5_ticker_and_trades_reach_the_stores() -> None:
    async with (
        FakeExchange("bitget", seed=8, rate=0, levels=30, symbols=[SPOT]) as fake,
        Client(redirects=fake.redirects) as client,
    ):
        store, spy = BitgetV2DataStore(), Spy()
        app: WebSocketApp = await client.ws_connect(
            PUBLIC,
            send_json=subscribe(
                ("SPOT", "books5", "BTCUSDT"),
                ("SPOT", "ticker", "BTCUSDT"),
                ("SPOT", "trade", "BTCUSDT"),
            ),
            hdlr_json=[store.onmessage, spy],
        )
        await until(lambda: spy.saw("subscribe", channel="trade") == 1)
        updates = fake.venues["bitget"].tick(30)
        await barrier(fake, spy)
        truth_bids, truth_asks = fake.book(SPOT).top(5)
        bids, asks = v2_sides(store, SPOT)
        assert (bids, asks) == (dict(truth_bids), dict(truth_asks))
        trades = [t for u in updates for t in u.trades]
        assert trades  # the generator trades about every third update
        assert {t["tradeId"] for t in store.trade.find()} == {str(t.trade_id) for t in trades}
        [ticker] = store.ticker.find()
        assert (ticker["bidPr"], ticker["askPr"]) == (truth_bids[0][0], truth_asks[0][0])
        assert ticker["lastPr"] == trades[-1].price
        await app.close()
