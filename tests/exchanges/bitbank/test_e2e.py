"""End to end against the fake bitbank venue: a real Client, WebSocketApp and PubNub
long-polls on loopback. The book equals the fake's after its delayed first whole; a
lost diff cannot be seen and the next whole heals it; a reconnect resyncs; junk is
dropped and counted; the private stream delivers orders placed through the signed
REST API and survives an expired token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from _e2e import until

from datastores import Client, bitbankDataStore, bitbankPrivateDataStore
from datastores.helpers.bitbank import PrivateStream, subscribe_with_callback
from datastores.testing import FakeExchange

WS = "wss://stream.bitbank.cc/socket.io/?EIO=4&transport=websocket"
API = "https://api.bitbank.cc/v1"


@pytest.fixture
async def fake() -> AsyncIterator[FakeExchange]:
    async with FakeExchange("bitbank", seed=5, rate=0) as exchange:
        yield exchange


def same_book(store: bitbankDataStore, fake: FakeExchange, pair: str) -> bool:
    bids, asks = fake.book(pair).top()
    local_asks, local_bids = store.depth.levels(pair)
    return [tuple(level) for level in local_bids] == bids and [
        tuple(level) for level in local_asks
    ] == asks


def join(pair: str) -> list[list[str]]:
    rooms = ("depth_whole", "depth_diff", "transactions", "ticker", "circuit_break_info")
    return [["join-room", f"{kind}_{pair}"] for kind in rooms]


@pytest.mark.parametrize("eio", ["4", "3"])
async def test_book_heals_a_lost_diff_and_resyncs_after_a_reconnect(
    fake: FakeExchange, eio: str
) -> None:
    profile: Any = fake.profile
    profile.whole_delay = 2  # the first whole comes after two diffs newer than it
    store = bitbankDataStore()
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        await client.ws_connect(
            WS.replace("EIO=4", f"EIO={eio}"), send_json=join("btc_jpy"), hdlr_json=store.onmessage
        )
        await fake.wait_for_connections(1)
        await until(lambda: store.circuit_break_info.get({"pair": "btc_jpy"}) is not None)
        fake.tick(4, "btc_jpy")
        await until(lambda: store.depth.is_synced("btc_jpy"))
        await fake.drain()
        await until(lambda: same_book(store, fake, "btc_jpy"))
        assert store.depth.status("btc_jpy").last_update_id == profile.last_sequence["btc_jpy"]
        assert store.ticker.get({"pair": "btc_jpy"}) is not None
        store.depth._check()

        # a lost diff cannot be told: still "synced", but wrong until the next whole
        fake.skip_sequence("btc_jpy")
        fake.tick(3, "btc_jpy")
        await fake.drain()
        await until(
            lambda: store.depth.status("btc_jpy").last_update_id == profile.last_sequence["btc_jpy"]
        )
        assert store.depth.is_synced("btc_jpy")
        assert not same_book(store, fake, "btc_jpy")
        profile.send_wholes("btc_jpy")
        await fake.drain()
        await until(lambda: same_book(store, fake, "btc_jpy"))

        # junk through the fault machinery: dropped and counted, never raised
        fake.send_malformed("btc_jpy")
        fake.send_unknown_channel("btc_jpy")
        await fake.drain()
        await until(lambda: sum(store.statistics().unhandled.values()) == 1)
        assert sum(store.statistics().dropped.values()) >= 1
        assert not store.depth.is_synced("btc_jpy")  # the unreadable diff was a loss
        fake.tick(profile.whole_every + 3, "btc_jpy")  # a periodic whole covers it
        await fake.drain()
        await until(lambda: store.depth.is_synced("btc_jpy") and same_book(store, fake, "btc_jpy"))

        # a reconnect: unsynced, then the rejoin's whole resyncs it
        fake.drop_connections()
        venue = fake.venues["bitbank"]
        await until(lambda: not venue.has_subscribers("btc_jpy|whole"))
        await until(lambda: venue.has_subscribers("btc_jpy|circuit_break_info"))
        fake.tick(4, "btc_jpy")
        await fake.drain()
        await until(lambda: store.depth.status("btc_jpy").resyncs >= 2)
        await until(lambda: store.depth.is_synced("btc_jpy") and same_book(store, fake, "btc_jpy"))
        store.depth._check()


async def test_private_stream_orders_trades_and_an_expired_token(fake: FakeExchange) -> None:
    profile: Any = fake.profile
    profile.poll_timeout = 0.5
    fake.set_balance("jpy", "1000000", "0")
    store = bitbankPrivateDataStore()
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        stream = PrivateStream(client, store, renew_interval=3600.0)
        assert stream.start()
        await until(lambda: stream.polls >= 1 and store.asset.get({"asset": "jpy"}) is not None)
        assert "fake-pubnub-token" not in repr(stream)

        placed = await client.fetch(
            "POST",
            f"{API}/user/spot/order",
            data={"pair": "btc_jpy", "amount": "0.01", "price": "9000000", "side": "buy",
                  "type": "limit"},
        )  # fmt: skip
        assert placed.data["success"] == 1
        order_id = placed.data["data"]["order_id"]
        await until(lambda: store.spot_order.get({"order_id": order_id}) is not None)

        fake.fill_order(order_id, "0.004")
        await until(lambda: len(store.spot_trade) == 1)
        order = store.spot_order.get({"order_id": order_id})
        assert order is not None
        assert order["status"] == "PARTIALLY_FILLED"

        # the token expires (as after maintenance): a new one, and nothing is lost. The
        # fill comes once a poll was refused: filled earlier, the poll in flight (its
        # token checked when it began) would deliver it before the expiry is noticed,
        # and the renewal could still be on its way when the order is gone.
        assert fake.expire_listen_key()
        await until(lambda: stream.expired >= 1)
        fake.fill_order(order_id)
        await until(lambda: store.spot_order.get({"order_id": order_id}) is None)
        assert stream.renewals >= 1  # the fill came through a poll with the new token
        assert len(store.spot_trade) == 2
        tokens = profile.private.polls
        assert tokens[0] != tokens[-1]
        await stream.aclose()
        assert not stream.running


async def test_private_stream_renews_the_token_before_it_expires(fake: FakeExchange) -> None:
    profile: Any = fake.profile
    profile.poll_timeout = 0.2
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        stream = PrivateStream(client, renew_interval=0.3, initialize=False)
        stream.start()
        await until(lambda: stream.renewals >= 2)
        assert stream.expired == 0
        assert len(set(profile.private.polls)) >= 2
    assert not stream.running  # Client.close() ended it


async def test_subscribe_with_callback_feeds_the_store(fake: FakeExchange) -> None:
    profile: Any = fake.profile
    profile.poll_timeout = 0.2
    store = bitbankPrivateDataStore()
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        import asyncio

        task = asyncio.ensure_future(subscribe_with_callback(client, store.onmessage))
        await until(lambda: len(profile.private.polls) >= 1)
        fake.set_balance("btc", "0.5", "0.1")
        await until(lambda: store.asset.get({"asset": "btc"}) is not None)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
