"""PhemexDataStore against the fake Phemex on loopback: the real Client, signing, login
and heartbeat; books equal to the fake's, a lost increment healed by the periodic
snapshot, reconnects, malformed and unknown messages, the 30 s ping rule, AOP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp
from _e2e import until

from datastores import Client, PhemexDataStore
from datastores.testing import FakeExchange, VirtualClock

WS_URL = "wss://ws.phemex.com"
USDSM, COINM = "BTCUSDT", "BTCUSD"


def subscribe(*requests: tuple[str, list[Any]]) -> list[dict[str, Any]]:
    return [{"id": n, "method": m, "params": p} for n, (m, p) in enumerate(requests, 1)]


def differences(store: PhemexDataStore, fake: FakeExchange, symbol: str, depth: int) -> list[str]:
    """The local book against the fake's best ``depth`` levels, in real prices."""
    scale = Decimal(1) if symbol.endswith("USDT") else Decimal(10) ** 4
    asks, bids = store.orderbook.levels(symbol)
    to_map = lambda levels: {str(Decimal(p) / scale): str(q) for p, q in levels}  # noqa: E731
    return fake.book(symbol).differences(to_map(bids), to_map(asks), depth)


def caught_up(store: PhemexDataStore, fake: FakeExchange, symbol: str) -> bool:
    status = store.orderbook.status(symbol)
    sequence = fake.profile.book_sequence(symbol)  # type: ignore[attr-defined]
    return status.synced and status.last_update_id == sequence


async def test_books_equal_the_fakes_and_a_lost_increment_is_healed_by_the_snapshot() -> None:
    async with (
        FakeExchange("phemex", seed=3, rate=0, symbols=[USDSM, COINM]) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        store = PhemexDataStore()
        requests = subscribe(
            ("orderbook_p.subscribe", [USDSM]),
            ("orderbook.subscribe", [COINM, True]),
            ("trade_p.subscribe", [USDSM]),
        )
        await client.ws_connect(WS_URL, send_json=requests, hdlr_json=store.onmessage)
        await fake.wait_for_connections(1)
        book = store.orderbook
        await until(lambda: book.is_synced(USDSM) and book.is_synced(COINM))
        fake.tick(60)
        await until(lambda: caught_up(store, fake, USDSM) and caught_up(store, fake, COINM))
        assert differences(store, fake, USDSM, 30) == []
        assert status_levels(store, USDSM) == (30, 30)  # truncated to the subscribed depth
        assert differences(store, fake, COINM, 10**6) == []  # the full book
        assert len(store.trade) > 0
        assert {t["symbol"] for t in store.trade} == {USDSM}

        fake.skip_sequence(USDSM)  # lost: nothing in the stream can tell
        fake.tick(3, USDSM)
        await until(lambda: caught_up(store, fake, USDSM))
        assert book.is_synced(USDSM)
        assert differences(store, fake, USDSM, 30) != []
        fake.profile.publish_snapshots(USDSM)  # type: ignore[attr-defined]
        await until(lambda: book.snapshot_mismatches(USDSM) == 1)
        await until(lambda: caught_up(store, fake, USDSM))
        assert differences(store, fake, USDSM, 30) == []
        status = book.status(USDSM)
        assert (status.checksum_failures, status.gaps, status.resyncs) == (1, 0, 0)

        # The periodic snapshots come by themselves and find the book equal.
        fake.tick(fake.profile.snapshot_every)  # type: ignore[attr-defined]
        await until(lambda: caught_up(store, fake, USDSM) and caught_up(store, fake, COINM))
        assert book.snapshot_mismatches(USDSM) == 1
        assert book.snapshot_mismatches(COINM) == 0
        assert differences(store, fake, USDSM, 30) == []
        book._check()


def status_levels(store: PhemexDataStore, symbol: str) -> tuple[int, int]:
    status = store.orderbook.status(symbol)
    return status.asks, status.bids


async def test_reconnects_and_malformed_messages_resync_by_subscribing_again() -> None:
    async with (
        FakeExchange("phemex", seed=4, rate=0) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        store = PhemexDataStore()
        store.client = client
        requests = subscribe(("orderbook_p.subscribe", [USDSM, False, 5]))
        await client.ws_connect(WS_URL, send_json=requests, hdlr_json=store.onmessage)
        await fake.wait_for_connections(1)
        book = store.orderbook
        await until(lambda: book.is_synced(USDSM))
        fake.drop_connections()
        await until(lambda: book.status(USDSM).resyncs == 1)
        await fake.wait_for_connections(1)
        await until(lambda: book.is_synced(USDSM))
        fake.tick(20)
        await until(lambda: caught_up(store, fake, USDSM))
        assert differences(store, fake, USDSM, 5) == []
        assert status_levels(store, USDSM) == (5, 5)

        fake.send_malformed(USDSM)  # a book message without a readable sequence
        fake.send_unknown_channel(USDSM)
        await until(lambda: store.statistics().unhandled.get("fake_unknown_p") == 1)
        assert store.statistics().dropped == {"book message without a sequence": 1}
        # the book subscribed again with its depth and the fake's snapshot resynced it
        await until(lambda: book.is_synced(USDSM))
        fake.tick(10)
        await until(lambda: caught_up(store, fake, USDSM))
        assert differences(store, fake, USDSM, 5) == []
        status = book.status(USDSM)
        assert (status.errors, status.resyncs) == (1, 2)
        assert store.statistics().handler_errors == 0


async def test_the_fake_closes_a_silent_socket_after_30_s_and_the_client_pings_in_time() -> None:
    clock = VirtualClock(settle=0.005)
    async with (
        FakeExchange("phemex", rate=0, clock=clock) as fake,
        Client(apis=fake.apis, redirects=fake.redirects, clock=clock) as client,
    ):
        store = PhemexDataStore()
        app = await client.ws_connect(
            WS_URL,
            send_json=subscribe(("orderbook_p.subscribe", [USDSM])),
            hdlr_json=store.onmessage,
        )
        await fake.wait_for_connections(1)
        ours = fake.connections[0]
        async with aiohttp.ClientSession() as session:
            silent = await session.ws_connect(fake.redirects["ws.phemex.com"])
            await fake.wait_for_connections(2)
            message = await silent.receive()  # closed by the fake after 30 s (virtual)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert clock.monotonic() >= 30.0
        await clock.sleep(60.0)
        assert not ours.closing  # our heartbeat kept it open
        assert not ours.state.get("closed_for_no_ping")
        assert app.statistics().reconnects == 0
        assert store.orderbook.is_synced(USDSM)


async def test_signed_requests_pass_the_fakes_verifier() -> None:
    async with FakeExchange("phemex", rate=0) as fake:
        fake.set_balance("USDT", "1000.5", "10")
        url = "https://api.phemex.com/g-accounts/accountPositions?currency=USDT"
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            response = await client.fetch("GET", url)
            assert response.response.status == 200
            assert response.data["data"]["account"]["accountBalanceRv"] == "1010.5"
        wrong = {"phemex": [fake.api_key, "not-the-secret"]}
        async with Client(apis=wrong, redirects=fake.redirects) as client:
            response = await client.fetch("GET", url)
            assert response.response.status == 401


async def test_aop_after_login_orders_balances_and_positions() -> None:
    async with (
        FakeExchange("phemex", rate=0) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        fake.set_balance("USDT", "500")
        resting = fake.place_order(USDSM, "BUY", "0.01", "60000")
        store = PhemexDataStore()
        await client.ws_connect(
            WS_URL, send_json=subscribe(("aop_p.subscribe", [])), hdlr_json=store.onmessage
        )
        await until(lambda: len(store.orders) == 1)
        account = store.accounts.get({"accountID": 675340003, "currency": "USDT"})
        assert account is not None
        assert account["accountBalanceRv"] == "500"

        order = fake.place_order(USDSM, "SELL", "0.02", "70000")
        await until(lambda: len(store.orders) == 2)
        fake.fill_order(order.order_id, "0.01")
        await until(lambda: store.orders.get({"orderID": str(order.order_id)}) is not None)
        await until(
            lambda: (
                store.orders.get({"orderID": str(order.order_id)})["ordStatus"]  # type: ignore[index]
                == "PartiallyFilled"
            )
        )
        fake.cancel_order(resting.order_id)
        fake.fill_order(order.order_id)
        await until(lambda: len(store.orders) == 0)
        fake.set_position(USDSM, "0.01", "65000")
        await until(lambda: len(store.positions) == 1)
        position = store.positions.get(
            {"accountID": 675340003, "symbol": USDSM, "posSide": "Merged"}
        )
        assert position is not None
        assert position["sizeRq"] == "0.01"
        assert store.statistics().dropped == {}
