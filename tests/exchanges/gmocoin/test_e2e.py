"""GMO Coin against its fake exchange on loopback: the real Client, WebSocketApp and store."""

from __future__ import annotations

import asyncio
from typing import Any

from _e2e import until

from datastores import Client, ConnectionState, DataStoreCollection
from datastores.exchanges.gmocoin._rest import token_of
from datastores.exchanges.gmocoin.store import GMOCoinDataStore
from datastores.helpers import GMOCoinHelper
from datastores.testing import FakeExchange, VirtualClock

PUBLIC = "wss://api.coin.z.com/ws/public/v1"
PRIVATE = "wss://api.coin.z.com/ws/private/v1/"
SYMBOL = "BTC_JPY"


def subscribe(channel: str, symbol: str | None = None) -> dict[str, Any]:
    message = {"command": "subscribe", "channel": channel}
    return message if symbol is None else {**message, "symbol": symbol}


def book_equals_fake(store: GMOCoinDataStore, fake: FakeExchange, symbol: str = SYMBOL) -> bool:
    sides = store.orderbooks.sorted({"symbol": symbol})
    bids = {level["price"]: level["size"] for level in sides["bids"]}
    asks = {level["price"]: level["size"] for level in sides["asks"]}
    return fake.book(symbol).differences(bids, asks, depth=30) == []


def caught_up(store: GMOCoinDataStore, fake: FakeExchange, symbol: str = SYMBOL) -> bool:
    status = store.orderbooks.status(symbol)
    return status.synced and status.last_update_id == fake.profile.frame_ms[symbol]  # type: ignore[attr-defined]


async def test_books_equal_the_fake_and_heal_after_faults_and_a_reconnect() -> None:
    clock = VirtualClock(settle=0.01)  # the paced subscriptions take no real time
    async with (
        FakeExchange("gmocoin", seed=5, rate=0, clock=clock) as fake,
        Client(apis=fake.apis, redirects=fake.redirects, clock=clock) as client,
    ):
        store = GMOCoinDataStore()
        sends = [subscribe("orderbooks", SYMBOL), subscribe("trades", SYMBOL)]
        sends.append(subscribe("ticker", SYMBOL))
        app = await client.ws_connect(PUBLIC, send_json=sends, hdlr_json=store.onmessage)
        await fake.wait_for_connections(1)
        await until(lambda: store.orderbooks.is_synced(SYMBOL))
        fake.tick(40)
        await until(lambda: caught_up(store, fake))
        assert book_equals_fake(store, fake)
        assert len(store.trades) > 0
        assert store.ticker.get({"symbol": SYMBOL}) is not None

        # A withheld frame cannot be seen; the next one repairs the book anyway.
        fake.skip_sequence(SYMBOL)
        fake.tick(2)
        await until(lambda: caught_up(store, fake))
        assert book_equals_fake(store, fake)
        assert store.orderbooks.status(SYMBOL).gaps == 0

        fake.send_malformed(SYMBOL)
        fake.send_unknown_channel(SYMBOL)
        await until(lambda: store.statistics().unhandled.get("gmocoin-unknown") == 1)
        assert not store.orderbooks.is_synced(SYMBOL)
        fake.tick(1)
        await until(lambda: caught_up(store, fake))
        assert book_equals_fake(store, fake)
        stats = DataStoreCollection.statistics(store)
        assert stats.dropped == {"orderbooks frame refused by the book": 1}
        assert stats.handler_errors == 0
        assert store.orderbooks.status(SYMBOL).errors == 1

        fake.drop_connections()
        await until(lambda: store.orderbooks.status(SYMBOL).resyncs == 2)
        await fake.wait_for_connections(1)
        await until(lambda: app.state is ConnectionState.OPEN)
        fake.tick(5)
        await until(lambda: caught_up(store, fake))
        assert book_equals_fake(store, fake)
        store.orderbooks._check()
        assert fake.profile.rejected_requests == 0  # type: ignore[attr-defined]


async def test_subscriptions_are_paced_after_a_reconnect_and_the_app_says_so() -> None:
    clock = VirtualClock(settle=0.01)
    async with (
        FakeExchange("gmocoin", seed=6, rate=0, clock=clock) as fake,
        Client(apis=fake.apis, redirects=fake.redirects, clock=clock) as client,
    ):
        store = GMOCoinDataStore()
        sends = [subscribe(c, s) for s in (SYMBOL, "BTC") for c in ("orderbooks", "trades")]
        sends.append(subscribe("ticker", SYMBOL))
        # What the app says about its paced requests, seen from each frame a new
        # connection delivers while the app is still RECONNECTING.
        backlog: list[tuple[int, float]] = []
        apps: list[Any] = []

        def watch_backlog(msg: Any, ws: Any) -> None:
            if apps and apps[0].state is ConnectionState.RECONNECTING:
                stats = apps[0].statistics()
                backlog.append((stats.queued_out, stats.queued_out_seconds))

        started = clock.monotonic()
        app = await client.ws_connect(
            PUBLIC, send_json=sends, hdlr_json=[store.onmessage, watch_backlog]
        )
        apps.append(app)
        # Five requests at 0.9 a second: the app is open after the fifth, 4/0.9 s later.
        assert clock.monotonic() - started >= 4 / 0.9 - 0.01
        assert store.orderbooks.is_synced("BTC")

        assert (app.statistics().queued_out, app.statistics().queued_out_seconds) == (0, 0.0)
        states: list[ConnectionState] = []
        fake.drop_connections()
        await until(lambda: app.state is not ConnectionState.OPEN)
        lost = clock.monotonic()
        while app.state is not ConnectionState.OPEN:
            states.append(app.state)
            if store.orderbooks.status("BTC").synced:
                break
            await asyncio.sleep(0.005)
        await until(lambda: app.state is ConnectionState.OPEN)
        # The books are unsynced and the app RECONNECTING while the requests go out, and
        # its statistics say how many are left and how long they will take.
        assert ConnectionState.RECONNECTING in states
        waiting = [(frames, seconds) for frames, seconds in backlog if frames > 1]
        assert waiting, backlog
        assert all(abs(seconds - (frames - 1) / 0.9) < 1.2 for frames, seconds in waiting)
        assert (app.statistics().queued_out, app.statistics().queued_out_seconds) == (0, 0.0)
        assert clock.monotonic() - lost >= 4 / 0.9 - 0.01
        assert store.orderbooks.is_synced(SYMBOL)
        assert store.orderbooks.is_synced("BTC")
        assert fake.profile.rejected_requests == 0  # type: ignore[attr-defined]


async def test_the_helper_survives_the_weekly_maintenance() -> None:
    clock = VirtualClock(settle=0.01)
    async with (
        FakeExchange("gmocoin", seed=7, rate=0, clock=clock) as fake,
        Client(apis=fake.apis, redirects=fake.redirects, clock=clock) as client,
    ):
        helper = GMOCoinHelper(client)
        token = await helper.create_access_token()
        store = GMOCoinDataStore()
        app = await client.ws_connect(
            PRIVATE + token,
            send_json=[subscribe("orderEvents"), subscribe("executionEvents")],
            hdlr_json=store.onmessage,
        )
        manager = asyncio.ensure_future(helper.manage_ws_token(app, token, delay=300.0))
        await clock.sleep(2.0)  # both subscriptions are through

        order = {"symbol": SYMBOL, "side": "BUY", "executionType": "LIMIT", "size": "0.01"}
        response = await client.fetch(
            "POST", "https://api.coin.z.com/private/v1/order", data={**order, "price": "100"}
        )
        first = int(response.data["data"])
        await until(lambda: store.orders.get({"orderId": first}) is not None)

        fake.profile.start_maintenance()  # type: ignore[attr-defined]
        await until(lambda: app.state is not ConnectionState.OPEN)
        await clock.sleep(900.0)  # handshakes get 503, extensions ERR-5201: retried
        assert app.state is not ConnectionState.OPEN
        lost = fake.profile.end_maintenance()  # type: ignore[attr-defined]
        assert token in lost

        # The old token is refused; the helper makes a new one and the app follows it.
        await clock.sleep(400.0)
        await until(lambda: app.state is ConnectionState.OPEN)
        new_token = token_of(app.url)
        assert new_token is not None
        assert new_token != token
        assert fake.profile.rest.token_valid(new_token)  # type: ignore[attr-defined]
        await clock.sleep(2.0)  # the resubscription is through
        response = await client.fetch(
            "POST", "https://api.coin.z.com/private/v1/order", data={**order, "price": "101"}
        )
        second = int(response.data["data"])
        await until(lambda: store.orders.get({"orderId": second}) is not None)
        fake.fill_order(second)
        await until(lambda: store.orders.get({"orderId": second}) is None)
        assert len(store.executions) == 1
        assert token not in str(app)  # tokens never reach reprs

        await app.close()
        await asyncio.wait_for(manager, 5.0)  # ends with the app


async def test_initialize_reads_the_fakes_account_and_keeps_the_token_app_current() -> None:
    clock = VirtualClock(settle=0.01)
    async with (
        FakeExchange("gmocoin", seed=8, rate=0, clock=clock) as fake,
        Client(apis=fake.apis, redirects=fake.redirects, clock=clock) as client,
    ):
        placed = fake.place_order(SYMBOL, "SELL", "0.02", "9100000")
        fake.set_position(SYMBOL, "0.5", "9000000")
        store = GMOCoinDataStore()
        base = "https://api.coin.z.com/private/v1"
        await store.initialize(
            client.post(f"{base}/ws-auth"),
            client.get(f"{base}/activeOrders", params={"symbol": SYMBOL}),
            client.get(f"{base}/openPositions", params={"symbol": SYMBOL}),
            client.get(f"{base}/positionSummary"),
        )
        assert [o["orderId"] for o in store.orders] == [placed.order_id]
        assert [p["size"] for p in store.positions] == ["0.5"]
        summary = store.position_summary.get({"symbol": SYMBOL, "side": "BUY"})
        assert summary is not None
        assert store.token is not None
        app = await client.ws_connect(
            PRIVATE + store.token, send_json=subscribe("orderEvents"), hdlr_json=store.onmessage
        )
        store.token_app = app
        old = store.token
        fake.expire_listen_key()  # the token is gone and the private stream dropped
        await clock.sleep(1900.0)  # the next extension is refused: a new token
        await until(lambda: app.state is ConnectionState.OPEN and token_of(app.url) != old)
        assert store.token == token_of(app.url)
        await app.close()
