"""End to end against the fake Coincheck venue: a real Client and WebSocketApp on loopback.

The sequenced book fetches its snapshot by itself, equals the fake's whole book, notices a
withheld diff and heals by REST (through a failing REST endpoint too), resyncs after a
reconnect; the legacy book is seeded but cannot see a loss (a reconnect reseeds it); junk is
counted; orders placed through the signed REST API come back as private events."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import DemoSummary, RunDemo

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from _e2e import until

from datastores import Client, CoincheckDataStore, CoincheckPrivateDataStore
from datastores.testing import FakeExchange

PUBLIC = "wss://ws-api.coincheck.com/"
PRIVATE = "wss://stream.coincheck.com/private"
ORDERS = "https://coincheck.com/api/exchange/orders"


@pytest.fixture
async def fake() -> AsyncIterator[FakeExchange]:
    async with FakeExchange("coincheck", seed=5, rate=0) as exchange:
        yield exchange


def same_book(store: CoincheckDataStore, fake: FakeExchange, pair: str) -> bool:
    bids, asks = fake.book(pair).top()
    local_asks, local_bids = store.orderbook.levels(pair)
    return [tuple(level) for level in local_bids] == bids and [
        tuple(level) for level in local_asks
    ] == asks


async def settle(fake: FakeExchange) -> None:
    await fake.drain()
    await asyncio.sleep(0.02)


def subscribe(channel: str) -> dict[str, str]:
    return {"type": "subscribe", "channel": channel}


async def test_sequenced_book_heals_gaps_rest_failures_and_reconnects(fake: FakeExchange) -> None:
    store = CoincheckDataStore()
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        store.client = client
        await client.ws_connect(
            PUBLIC,
            send_json=[subscribe("btc_jpy-limit-range-orderbook"), subscribe("btc_jpy-trades")],
            hdlr_json=store.onmessage,
        )
        await fake.wait_for_connections(1)
        fake.tick(3, "btc_jpy")
        await until(lambda: store.orderbook.is_synced("btc_jpy"))
        fake.tick(10, "btc_jpy")
        await settle(fake)
        await until(lambda: same_book(store, fake, "btc_jpy"))
        status = store.orderbook.status("btc_jpy")
        assert status.verifiable
        assert status.last_update_id == fake.profile.sequence("btc_jpy")  # type: ignore[attr-defined]
        assert len(store.trades) > 0

        # A withheld diff is a gap; the first snapshot fetch fails, the next heals it.
        fake.fail_rest(status=503, times=1, path="/api/order_books")
        fake.skip_sequence("btc_jpy")
        fake.tick(4, "btc_jpy")
        await until(lambda: store.orderbook.status("btc_jpy").gaps == 1)
        await until(lambda: store.orderbook.is_synced("btc_jpy"), timeout=10)
        fake.tick(3, "btc_jpy")
        await settle(fake)
        await until(lambda: same_book(store, fake, "btc_jpy"))

        # A dropped connection: the app reconnects and subscribes again, the book resyncs.
        resyncs = store.orderbook.status("btc_jpy").resyncs
        fake.drop_connections()
        await until(lambda: store.orderbook.status("btc_jpy").resyncs > resyncs, timeout=10)
        await fake.wait_for_connections(1)
        fake.tick(3, "btc_jpy")
        await until(lambda: store.orderbook.is_synced("btc_jpy"), timeout=10)
        fake.tick(2, "btc_jpy")
        await settle(fake)
        await until(lambda: same_book(store, fake, "btc_jpy"))

        # Junk on the socket is counted, never raised, and leaves the book alone.
        fake.send_unknown_channel("btc_jpy")
        fake.send_truncated()
        fake.send_malformed("btc_jpy")
        await settle(fake)
        await until(lambda: sum(store.statistics().dropped.values()) >= 1)
        stats = store.statistics()
        assert stats.handler_errors == 0
        assert sum(stats.unhandled.values()) == 1
        store.orderbook._check()


async def test_legacy_book_is_seeded_and_a_reconnect_reseeds_it(fake: FakeExchange) -> None:
    store = CoincheckDataStore()
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        store.client = client
        await client.ws_connect(
            PUBLIC, send_json=subscribe("eth_jpy-orderbook"), hdlr_json=store.onmessage
        )
        await fake.wait_for_connections(1)
        fake.tick(1, "eth_jpy")
        await until(lambda: store.orderbook.is_synced("eth_jpy"))
        fake.tick(8, "eth_jpy")
        await settle(fake)
        await until(lambda: same_book(store, fake, "eth_jpy"))
        assert not store.orderbook.status("eth_jpy").verifiable

        # A lost diff cannot be seen: the book still says synced.
        fake.skip_sequence("eth_jpy")
        fake.tick(5, "eth_jpy")
        await settle(fake)
        status = store.orderbook.status("eth_jpy")
        assert status.synced
        assert status.gaps == 0

        # A reconnect reseeds it from REST.
        fake.drop_connections()
        await fake.wait_for_connections(1)
        fake.tick(1, "eth_jpy")
        await until(lambda: store.orderbook.status("eth_jpy").resyncs >= 2)
        await until(lambda: store.orderbook.is_synced("eth_jpy"))
        fake.tick(3, "eth_jpy")
        await settle(fake)
        await until(lambda: same_book(store, fake, "eth_jpy"))


async def test_orders_placed_through_rest_come_back_as_private_events(fake: FakeExchange) -> None:
    store = CoincheckPrivateDataStore()
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        await client.ws_connect(
            PRIVATE,
            send_json={"type": "subscribe", "channels": ["order-events", "execution-events"]},
            hdlr_json=store.onmessage,
        )
        await fake.wait_for_connections(1)
        await until(lambda: store.statistics().messages >= 1)  # the login reply
        form = {"pair": "btc_jpy", "order_type": "buy", "rate": "9000000", "amount": "0.5"}
        response = await client.post(ORDERS, data=form)
        store.order.feed_response(await response.json())
        order = store.order.find()[0]
        assert order["pending_amount"] == "0.5"
        await asyncio.sleep(0.002)  # a new millisecond: Coincheck nonces must grow
        other = await client.post(ORDERS, data={**form, "rate": "8900000"})
        other_id = (await other.json())["id"]

        fake.fill_order(order["id"], "0.2")
        await until(lambda: len(store.execution) == 1)
        await until(lambda: store.order.find()[0].get("pending_amount") == "0.3")
        assert store.execution.find()[0]["funds"] == {"btc": "0.2", "jpy": "-1800000.0"}

        # initialize() loads both open orders, with the exchange's pending amounts.
        await asyncio.sleep(0.002)
        await store.initialize(client.get(f"{ORDERS}/opens"))
        pending = {o["id"]: o["pending_amount"] for o in store.order.find()}
        assert pending == {order["id"]: "0.3", other_id: "0.5"}

        await asyncio.sleep(0.002)
        cancel = await client.delete(f"{ORDERS}/{other_id}")
        assert (await cancel.json())["success"] is True
        await until(lambda: len(store.order) == 1)
        fake.fill_order(order["id"])
        await until(lambda: len(store.order) == 0)
        assert len(store.execution) == 2
        assert store.statistics().dropped == {}


def test_demo_detects_the_gap_and_ends_equal_to_the_fake(
    run_demo: RunDemo, demo_summary: DemoSummary
) -> None:
    args = ["--exchange", "coincheck", "--seconds", "3", "--rate", "300", "--view", "plain"]
    result = run_demo(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = demo_summary(result.stdout)
    assert int(summary["gaps"]) >= 1
    assert int(summary["reconnects"]) >= 1
    assert summary["synced"] == "yes"
    assert summary["book_check"] == "ok"
    assert not re.search(r"Warning|Task was destroyed|Unclosed|Traceback", result.stderr)
