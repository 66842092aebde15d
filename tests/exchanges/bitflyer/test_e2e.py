"""bitFlyer against its fake exchange on loopback: the real Client, signing and store."""

from __future__ import annotations

from typing import Any

from _e2e import until

from datastores import Client, bitFlyerDataStore
from datastores.exchanges.bitflyer.cli import target
from datastores.testing import FakeExchange, VirtualClock

PC = "FX_BTC_JPY"
WS_URL = "wss://ws.lightstream.bitflyer.com/json-rpc"
API = "https://api.bitflyer.com"
SUBSCRIBE = target(PC).subscribe


def differences(store: bitFlyerDataStore, fake: FakeExchange, depth: int = 200) -> list[str]:
    asks, bids = store.board.levels(PC)
    return fake.book(PC).differences(
        {str(p): str(s) for p, s in bids}, {str(p): str(s) for p, s in asks}, depth=depth
    )


def subscribed(fake: FakeExchange, channel: str = f"lightning_board_snapshot_{PC}") -> bool:
    """Whether the fake has the subscription (``ws_connect`` may return before)."""
    return fake.venues["bitflyer"].has_subscribers(channel)


def profile(fake: FakeExchange) -> Any:
    return fake.venues["bitflyer"].profile


async def test_book_syncs_heals_missed_deletions_at_the_next_snapshot() -> None:
    async with (
        FakeExchange("bitflyer", seed=7, rate=0, symbols=[PC]) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        store = bitFlyerDataStore()
        await client.ws_connect(WS_URL, send_json=SUBSCRIBE, hdlr_json=store.onmessage)
        await fake.wait_for_connections(1)
        await until(lambda: subscribed(fake))
        board = store.board
        fake.tick(2)  # two diffs (dropped: before the first snapshot), then the snapshot
        await until(lambda: board.is_synced(PC))
        fake.tick(10)
        await fake.drain()
        await until(lambda: differences(store, fake) == [])

        # The diffs lose deletions: the book keeps levels the exchange no longer has.
        profile(fake).miss_deletions(PC, 4)
        fake.tick(20)
        await fake.drain()
        await until(lambda: any("not on the exchange" in d for d in differences(store, fake)))
        # The periodic snapshot (every 50 updates) replaces the book: healed.
        fake.tick(30)
        await fake.drain()
        await until(lambda: differences(store, fake) == [])
        assert board.status(PC).synced
        board._check()

        # A wrong mid_price: unsynced until the next snapshot.
        failures = board.status(PC).checksum_failures
        fake.corrupt_checksum(PC)
        fake.tick(1)
        await until(lambda: not board.is_synced(PC))
        assert board.status(PC).checksum_failures == failures + 1
        fake.tick(50)
        await until(lambda: board.is_synced(PC))
        await fake.drain()
        await until(lambda: differences(store, fake) == [])

        fake.send_malformed(PC)
        fake.send_unknown_channel(PC)
        await until(lambda: store.statistics().unhandled.get(f"lightning_nope_{PC}") == 1)
        stats = store.statistics()
        assert stats.dropped == {"board diff with unreadable levels": 1}
        assert stats.handler_errors == 0
        assert board.status(PC).errors == 1  # an unreadable diff is a diff missed


async def test_a_reconnect_waits_for_the_new_connections_snapshot() -> None:
    async with (
        FakeExchange("bitflyer", seed=8, rate=0, symbols=[PC]) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        store = bitFlyerDataStore()
        await client.ws_connect(WS_URL, send_json=SUBSCRIBE, hdlr_json=store.onmessage)
        await fake.wait_for_connections(1)
        await until(lambda: subscribed(fake))
        fake.tick(3)
        await until(lambda: store.board.is_synced(PC))
        fake.drop_connections()
        await until(lambda: store.board.status(PC).resyncs == 1)
        assert not store.board.is_synced(PC)
        await fake.wait_for_connections(1)
        await until(lambda: subscribed(fake))
        fake.tick(3)
        await until(lambda: store.board.is_synced(PC))
        assert store.board.status(PC).last_update_id == 1  # the new connection's first
        await fake.drain()
        await until(lambda: differences(store, fake) == [])


async def test_a_silent_snapshot_channel_is_subscribed_after_a_wait() -> None:
    clock = VirtualClock(auto=False)
    async with (
        FakeExchange("bitflyer", seed=9, rate=0, symbols=[PC]) as fake,
        Client(redirects=fake.redirects, clock=clock) as client,  # public: no login
    ):
        store = bitFlyerDataStore()
        store.client = client
        # Only the diff channel: the book never syncs by itself.
        await client.ws_connect(WS_URL, send_json=SUBSCRIBE[1], hdlr_json=store.onmessage)
        await fake.wait_for_connections(1)
        await until(lambda: subscribed(fake, f"lightning_board_{PC}"))
        fake.tick(3)
        await until(lambda: PC in store.board.mid_price)
        store.board._fail(PC, "checksum", "no snapshot")  # as a wrong mid_price would
        # The recovery first waits for a periodic snapshot, sending nothing...
        await until(lambda: store._recovery.awaiting_snapshot == {PC})
        assert fake.venues["bitflyer"].stats.messages_received == 1
        # ...then subscribes the snapshot channel, whose snapshot syncs the book.
        clock.advance(10)
        await until(lambda: subscribed(fake))
        fake.tick(3)
        await until(lambda: store.board.is_synced(PC))
        assert store._recovery.awaiting_snapshot == frozenset()


async def test_private_channels_orders_and_initialize() -> None:
    async with FakeExchange("bitflyer", seed=10, rate=0, symbols=[PC]) as fake:
        fake.set_balance("JPY", "1000000")
        async with Client(apis=fake.apis, redirects=fake.redirects, base_url=API) as client:
            store = bitFlyerDataStore()
            subscribe = {"jsonrpc": "2.0", "method": "subscribe", "id": 9}
            await client.ws_connect(
                WS_URL,
                send_json=[
                    subscribe | {"params": {"channel": "child_order_events"}},
                    subscribe | {"id": 10, "params": {"channel": "parent_order_events"}},
                ],
                hdlr_json=store.onmessage,
            )
            await fake.wait_for_connections(1)
            await until(lambda: subscribed(fake, "user"))
            resting = fake.place_order(PC, "BUY", "0.01", "4990000")
            await store.initialize(
                client.get(f"/v1/me/getchildorders?product_code={PC}&child_order_state=ACTIVE"),
                client.get(f"/v1/me/getparentorders?product_code={PC}"),
                client.get(f"/v1/me/getpositions?product_code={PC}"),
                client.get("/v1/me/getcollateral"),
                client.get("/v1/me/getbalance"),
            )
            assert [o["child_order_acceptance_id"] for o in store.childorders] == [
                resting.client_order_id
            ]
            assert store.collateral.find()[0]["collateral"] == 1000000

            order = {"product_code": PC, "child_order_type": "LIMIT", "side": "BUY"}
            sent = await client.fetch(
                "POST", "/v1/me/sendchildorder", data=order | {"price": 4995000, "size": 0.02}
            )
            assert sent.response.status == 200
            accepted = sent.data["child_order_acceptance_id"]
            await until(lambda: store.childorders.get({"child_order_acceptance_id": accepted}))
            placed = next(
                o
                for o in fake.venues["bitflyer"].account.open_orders()
                if o.client_order_id == accepted
            )
            fake.fill_order(placed.order_id, "0.005")
            await until(lambda: len(store.positions) == 1)
            item = store.childorders.get({"child_order_acceptance_id": accepted})
            assert item is not None
            assert (item["size"], item["outstanding_size"], item["executed_size"]) == (
                0.02,
                0.015,
                0.005,
            )
            assert store.positions.find()[0]["size"] == 0.005
            cancel = {"product_code": PC, "child_order_acceptance_id": accepted}
            await client.fetch("POST", "/v1/me/cancelchildorder", data=cancel)
            await until(
                lambda: store.childorders.get({"child_order_acceptance_id": accepted}) is None
            )
            kinds = [e["event_type"] for e in store.childorderevents]
            assert kinds == ["ORDER", "ORDER", "EXECUTION", "CANCEL"]
        wrong = {"bitflyer": [fake.api_key, "not-the-secret"]}
        async with Client(apis=wrong, redirects=fake.redirects) as client:
            response = await client.fetch("GET", f"{API}/v1/me/getbalance")
            assert response.response.status == 401
            assert response.data["status"] == -500


async def test_the_reference_librarys_quickstart_shapes_run_after_the_import_change() -> None:
    import datastores

    async with FakeExchange("bitflyer", seed=11, rate=0, symbols=[PC]) as fake:
        fake.set_balance("JPY", "5000")
        # Private HTTP through fetch() with apis and base_url.
        async with datastores.Client(
            apis=fake.apis, base_url=API, redirects=fake.redirects
        ) as client:
            result = await client.fetch("GET", "/v1/me/getbalance")
            assert result.data == [{"currency_code": "JPY", "amount": 5000, "available": 5000}]
            # Public ticker into a WebSocketQueue.
            wsqueue = datastores.WebSocketQueue()
            await client.ws_connect(
                WS_URL,
                send_json={
                    "method": "subscribe",
                    "params": {"channel": f"lightning_ticker_{PC}"},
                    "id": 1,
                },
                hdlr_json=wsqueue.onmessage,
            )
            await until(lambda: subscribed(fake, f"lightning_ticker_{PC}"))
            fake.tick(1)
            async for msg in wsqueue:
                if msg.get("method") == "channelMessage":
                    assert msg["params"]["message"]["product_code"] == PC
                    break
