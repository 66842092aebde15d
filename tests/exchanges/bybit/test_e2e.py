"""End to end against the fake Bybit (datastores.testing.FakeExchange("bybit...")): the real
Client, WebSocketApp and BybitDataStore on loopback. Books are compared with the exchange's own
after sequence gaps, dropped connections, malformed and unknown frames, unanswered pings and
REST errors; private topics are driven by the fake's scripted account."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from _e2e import until

from datastores import Recorder, replay
from datastores._client import Client
from datastores._errors import AuthenticationError, RateLimitError, WebSocketAuthError
from datastores._ws import Backoff, ConnectionState
from datastores.exchanges.bybit.store import BybitDataStore
from datastores.testing import FakeExchange, VirtualClock
from datastores.testing.profiles.bybit.profile import BybitProfile

SYMBOL = "BTCUSDT"
LINEAR = "wss://stream.bybit.com/v5/public/linear"
SPOT = "wss://stream.bybit.com/v5/public/spot"
PRIVATE = "wss://stream.bybit.com/v5/private"
REST = "https://api.bybit.com"
FAST = Backoff(initial=0.01, maximum=0.05)


def profile(fake: FakeExchange, venue: str) -> BybitProfile:
    found = fake.venues[venue].profile
    assert isinstance(found, BybitProfile)
    return found


async def tick_until(
    fake: FakeExchange, venue: str, condition: Callable[[], bool], timeout: float = 5.0
) -> None:
    """Publish one update at a time until ``condition()`` holds (a gap shows only when
    a later update arrives)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        fake.tick(1, SYMBOL, venue=venue)
        await fake.drain()
        await asyncio.sleep(0.002)


async def caught_up(
    store: BybitDataStore, fake: FakeExchange, venue: str, topic: str, depth: int
) -> list[str]:
    """Wait until the store applied everything published on ``topic``, then compare
    its book with the exchange's best ``depth`` levels."""
    await fake.drain()
    target = profile(fake, venue)

    def done() -> bool:
        status = store.orderbook.status(SYMBOL)
        return status.synced and status.last_update_id == target.update_id(topic)

    await until(done)
    store.orderbook._check()
    asks, bids = store.orderbook.levels(SYMBOL)
    truth = fake.book(SYMBOL, venue=venue)
    return truth.differences(
        {str(p): str(s) for p, s, *_ in bids}, {str(p): str(s) for p, s, *_ in asks}, depth
    )


def order_id(number: int) -> str:
    """The fake's Bybit orderId for its numeric order id."""
    return str(uuid.UUID(int=number))


# ----------------------------------------------------------------- N-level book


async def test_linear_book_heals_after_gap_drops_and_bad_frames() -> None:
    topic = f"orderbook.50.{SYMBOL}"
    venue = "bybit-linear"
    async with (
        FakeExchange(venue, seed=3, rate=0, levels=300) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        # The fake numbers each topic's messages u, u+1, ... as Bybit does; the default
        # (strict) rule sees a missing one.
        store = BybitDataStore()
        app = await client.ws_connect(
            LINEAR,
            send_json={
                "op": "subscribe",
                "args": [topic, f"publicTrade.{SYMBOL}", f"tickers.{SYMBOL}"],
            },
            hdlr_json=store.onmessage,
            backoff=FAST,
        )
        await until(lambda: store.orderbook.is_synced(SYMBOL))
        fake.tick(30)
        assert await caught_up(store, fake, venue, topic, 50) == []
        assert store.orderbook.status(SYMBOL).asks == 50

        # Skip a sequence id: detected, counted, the topic is resubscribed on the live
        # connection and the fake's fresh snapshot heals the book.
        fake.skip_sequence(SYMBOL)
        await tick_until(fake, venue, lambda: store.orderbook.status(SYMBOL).gaps == 1)
        await until(lambda: store.orderbook.is_synced(SYMBOL))
        fake.tick(20)
        assert await caught_up(store, fake, venue, topic, 50) == []
        ops = [(op, args) for _, op, args in profile(fake, venue).operations]
        assert ops[-2:] == [("unsubscribe", (topic,)), ("subscribe", (topic,))]
        status = store.orderbook.status(SYMBOL)
        assert (status.gaps, status.resyncs) == (1, 1)

        # Drop the connection now: the app reconnects and resubscribes, the store
        # waits for the new snapshot (a reconnect is not a gap).
        fake.drop_connections()
        await until(lambda: app.statistics().reconnects == 1)
        fake.tick(20)
        assert await caught_up(store, fake, venue, topic, 50) == []

        # Drop after N messages, in the middle of a burst.
        fake.drop_after(5)
        fake.tick(20)
        await until(lambda: app.statistics().reconnects == 2)
        fake.tick(20)
        assert await caught_up(store, fake, venue, topic, 50) == []
        status = store.orderbook.status(SYMBOL)
        assert (status.gaps, status.resyncs, status.errors) == (1, 3, 0)

        # Malformed, unknown-channel and truncated frames: dropped or set aside and
        # counted, the book untouched.
        assert fake.send_malformed(SYMBOL) == 1
        assert fake.send_unknown_channel(SYMBOL) == 1
        assert fake.send_truncated() == 1
        fake.tick(10)
        assert await caught_up(store, fake, venue, topic, 50) == []
        assert store.dropped_messages == 1
        assert app.statistics().undecodable == 1
        assert [i["symbol"] for i in store["fakeUnknownChannel"].find()] == [SYMBOL]
        status = store.orderbook.status(SYMBOL)
        assert (status.gaps, status.errors, status.resyncs) == (1, 0, 3)
        assert store.failed_operations == 0

        # Trades and tickers follow the same market.
        best_bid = fake.book(SYMBOL, venue=venue).top(1)[0][0][0]
        await until(
            lambda: (store.ticker.get({"symbol": SYMBOL}) or {}).get("bid1Price") == best_bid
        )
        ticker = store.ticker.get({"symbol": SYMBOL})
        assert ticker is not None
        trades = store.trade.find()
        assert trades
        assert trades[-1]["p"] == ticker["lastPrice"]
        assert {t["S"] for t in trades} <= {"Buy", "Sell"}


async def test_unanswered_application_pings_replace_the_connection() -> None:
    topic = f"orderbook.200.{SYMBOL}"
    venue = "bybit-linear"
    clock = VirtualClock(settle=0.003)
    async with (
        FakeExchange(venue, seed=4, rate=0, levels=300) as fake,
        Client(redirects=fake.redirects, clock=clock) as client,
    ):
        store = BybitDataStore()
        app = await client.ws_connect(
            LINEAR,
            send_json={"op": "subscribe", "args": [topic]},
            hdlr_json=store.onmessage,
            heartbeat=None,  # no ping frames: only Bybit's {"op": "ping"} can notice
            backoff=FAST,
        )
        await until(lambda: store.orderbook.is_synced(SYMBOL))
        fake.stop_answering_pings()
        await until(
            lambda: app.statistics().heartbeat_timeouts >= 1 and app.statistics().reconnects >= 1
        )
        assert profile(fake, venue).pings >= 1
        fake.answer_pings()
        await until(lambda: app.state is ConnectionState.OPEN and store.orderbook.is_synced(SYMBOL))
        fake.tick(20)
        assert await caught_up(store, fake, venue, topic, 200) == []
        assert store.orderbook.status(SYMBOL).gaps == 0


# ------------------------------------------------------------------- full depth


async def test_full_orderbook_bridges_rest_snapshots_through_rest_errors_and_gaps(
    tmp_path: Path,
) -> None:
    topic = f"orderbook.full.{SYMBOL}"
    venue = "bybit-spot"
    clock = VirtualClock(settle=0.003)  # the store's REST backoff runs on the Client clock
    recorder = Recorder(tmp_path / "full.jsonl")
    async with (
        FakeExchange(venue, seed=5, rate=0, levels=300) as fake,
        Client(redirects=fake.redirects, clock=clock) as client,
    ):
        store = BybitDataStore()
        store.client = client
        recorder.attach(store)  # records the REST snapshots the store fetches by itself
        await client.ws_connect(
            SPOT,
            send_json={"op": "subscribe", "args": [topic]},
            hdlr_json=recorder.wrap(store.onmessage),
        )
        # The first snapshot requests meet a rate limit, then a server error.
        fake.fail_rest(429, path="/v5/market/full_orderbook")
        fake.fail_rest(503, path="/v5/market/full_orderbook")
        await tick_until(fake, venue, lambda: store.orderbook.is_synced(SYMBOL))
        fake.tick(20)
        assert await caught_up(store, fake, venue, topic, 10_000) == []
        statuses = [r.status for r in fake.requests() if r.path == "/v5/market/full_orderbook"]
        assert statuses[:3] == [429, 503, 200]

        # A skipped u breaks the strict +1 rule: resubscribe and a new REST snapshot.
        fake.skip_sequence(SYMBOL)
        await tick_until(fake, venue, lambda: store.orderbook.status(SYMBOL).gaps == 1)
        await tick_until(fake, venue, lambda: store.orderbook.is_synced(SYMBOL))
        fake.tick(20)
        assert await caught_up(store, fake, venue, topic, 10_000) == []
        ops = [(op, args) for _, op, args in profile(fake, venue).operations]
        assert ("unsubscribe", (topic,)) in ops
        snapshots = [r for r in fake.requests() if r.path == "/v5/market/full_orderbook"]
        assert len(snapshots) >= 4
        assert store.orderbook.feed(SYMBOL) is not None
        assert store.orderbook.status(SYMBOL).gaps == 1
    recorder.close()
    # The recording replays to the same book: the fetched snapshots are in it.
    replayed = BybitDataStore()
    stats = await replay(recorder.path, replayed)
    assert stats.responses == recorder.counts["rest"] >= 2
    assert replayed.orderbook.is_synced(SYMBOL)
    assert replayed.orderbook.status(SYMBOL).gaps == 1
    assert replayed.orderbook.sorted({"s": SYMBOL}) == store.orderbook.sorted({"s": SYMBOL})


# ------------------------------------------------------------- both categories


async def test_spot_and_linear_share_one_server_with_their_own_books() -> None:
    async with FakeExchange("bybit", seed=6, rate=0, levels=200) as fake:
        assert fake.venues["bybit-spot"].url == fake.venues["bybit-linear"].url
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            spot, linear = BybitDataStore(), BybitDataStore()
            private = BybitDataStore()
            await client.ws_connect(
                SPOT,
                send_json={"op": "subscribe", "args": [f"orderbook.50.{SYMBOL}"]},
                hdlr_json=spot.onmessage,
            )
            await client.ws_connect(
                LINEAR,
                send_json={"op": "subscribe", "args": [f"orderbook.1.{SYMBOL}"]},
                hdlr_json=linear.onmessage,
            )
            await client.ws_connect(
                PRIVATE,
                send_json={"op": "subscribe", "args": ["order.spot"]},
                hdlr_json=private.onmessage,
            )
            fake.tick(15)
            assert await caught_up(spot, fake, "bybit-spot", f"orderbook.50.{SYMBOL}", 50) == []
            assert await caught_up(linear, fake, "bybit-linear", f"orderbook.1.{SYMBOL}", 1) == []
            assert linear.orderbook.status(SYMBOL).asks == 1
            spot_bid = spot.orderbook.best(SYMBOL)[1]
            linear_bid = linear.orderbook.best(SYMBOL)[1]
            assert spot_bid is not None
            assert linear_bid is not None
            assert spot_bid["p"] != linear_bid["p"]  # two markets, not one book twice

            # REST routes by category; a REST fault on one venue acts on the shared server.
            result = await client.fetch(
                "GET",
                f"{REST}/v5/market/orderbook",
                params={"category": "spot", "symbol": SYMBOL, "limit": 5},
                auth=None,
            )
            assert result.data["result"]["b"][0][0] == spot_bid["p"]
            fake.fail_rest(503, venue="bybit-spot")
            failed = await client.fetch(
                "GET",
                f"{REST}/v5/market/orderbook",
                params={"category": "linear", "symbol": SYMBOL},
                auth=None,
            )
            assert failed.response.status == 503
            assert failed.data["retCode"] == 10016
            again = await client.fetch(
                "GET",
                f"{REST}/v5/market/orderbook",
                params={"category": "linear", "symbol": SYMBOL},
                auth=None,
            )
            assert again.data["result"]["b"][0][0] == linear_bid["p"]

            # Private events of every category come out of the one /v5/private stream,
            # on the categorised topic the client chose.
            await until(
                lambda: any(
                    op == "subscribe" for _, op, _ in profile(fake, "bybit-linear").operations
                )
            )
            fake.place_order(SYMBOL, "BUY", "0.001", "1000", venue="bybit-linear")
            order = fake.place_order(
                SYMBOL, "BUY", "0.002", "1000", client_order_id="s1", venue="bybit-spot"
            )
            await until(lambda: len(private.order) == 1)
            item = private.order.get({"orderId": order_id(order.order_id)})
            assert item is not None
            assert (item["category"], item["orderLinkId"], item["orderStatus"]) == (
                "spot",
                "s1",
                "New",
            )
            with pytest.raises(ValueError, match="spot has no positions"):
                fake.set_position(SYMBOL, "1", venue="bybit-spot")


# ------------------------------------------------------------------- private


async def test_private_topics_and_rest_bootstrap_follow_the_scripted_account() -> None:
    venue = "bybit-linear"
    async with FakeExchange(venue, seed=8, rate=0, levels=50) as fake:
        fake.set_balance("USDT", "1000")
        fake.set_balance("BTC", "0.1")
        fake.set_position(SYMBOL, "0.5", "64000")
        resting = fake.place_order(SYMBOL, "BUY", "0.010", "60000", client_order_id="bot-1")
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            store = BybitDataStore()
            await store.initialize(
                client.get(
                    f"{REST}/v5/position/list", params={"category": "linear", "settleCoin": "USDT"}
                ),
                client.get(
                    f"{REST}/v5/order/realtime", params={"category": "linear", "settleCoin": "USDT"}
                ),
                client.get(f"{REST}/v5/account/wallet-balance", params={"accountType": "UNIFIED"}),
            )
            position = store.position.get({"symbol": SYMBOL, "positionIdx": 0})
            assert position is not None
            assert (position["size"], position["side"], position["category"]) == (
                "0.5",
                "Buy",
                "linear",
            )
            assert [o["orderLinkId"] for o in store.order.find()] == ["bot-1"]
            wallet = store.wallet.get({"accountType": "UNIFIED"})
            assert wallet is not None
            assert {c["coin"]: c["walletBalance"] for c in wallet["coin"]} == {
                "USDT": "1000",
                "BTC": "0.1",
            }

            await client.ws_connect(
                PRIVATE,
                send_json={"op": "subscribe", "args": ["order", "execution", "position", "wallet"]},
                hdlr_json=store.onmessage,
            )
            # The fake refuses private subscriptions before a valid login, so this also
            # proves the WebSocketApp logged in first.
            target = profile(fake, venue)
            await until(lambda: any(op == "subscribe" for _, op, _ in target.operations))
            assert [op for _, op, _ in target.operations] == ["auth", "subscribe"]

            order = fake.place_order(SYMBOL, "SELL", "0.020", "66000", client_order_id="bot-2")
            key = {"orderId": order_id(order.order_id)}
            await until(lambda: store.order.get(key) is not None)
            fake.fill_order(order.order_id, "0.005")
            await until(lambda: len(store.execution) == 1)
            live = store.order.get(key)
            assert live is not None
            assert (live["orderStatus"], live["cumExecQty"], live["leavesQty"]) == (
                "PartiallyFilled",
                "0.005",
                "0.015",
            )
            fill = store.execution.find()[0]
            assert (fill["execQty"], fill["execPrice"], fill["side"]) == ("0.005", "66000", "Sell")

            fake.fill_order(order.order_id)
            fake.cancel_order(resting.order_id)
            await until(lambda: len(store.order) == 0)
            assert len(store.execution) == 2

            fake.set_position(SYMBOL, "0.48", "64000")
            await until(
                lambda: (
                    (store.position.get({"symbol": SYMBOL, "positionIdx": 0}) or {}).get("size")
                    == "0.48"
                )
            )
            fake.set_balance("USDT", "990", "10")
            await until(
                lambda: (
                    {
                        c["coin"]: c["walletBalance"]
                        for c in (store.wallet.get({"accountType": "UNIFIED"}) or {})["coin"]
                    }
                    == {"USDT": "1000", "BTC": "0.1"}
                    and store.wallet.find()[0]["coin"][0]["locked"] == "10"
                )
            )
            assert store.failed_operations == 0
            assert store.dropped_messages == 0


async def test_bad_credentials_and_rest_limits_get_bybit_errors() -> None:
    async with FakeExchange("bybit-linear", rate=0, levels=20) as fake:
        async with Client(
            apis={"bybit": ["fake-api-key", "wrong-secret"]}, redirects=fake.redirects
        ) as client:
            store = BybitDataStore()
            with pytest.raises(AuthenticationError) as caught:
                await store.initialize(
                    client.get(
                        f"{REST}/v5/account/wallet-balance", params={"accountType": "UNIFIED"}
                    )
                )
            assert caught.value.code == 10004
            with pytest.raises(WebSocketAuthError):
                await client.ws_connect(
                    PRIVATE,
                    send_json={"op": "subscribe", "args": ["order"]},
                    hdlr_json=store.onmessage,
                )
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            store = BybitDataStore()
            fake.fail_rest(429, path="/v5/order/realtime")
            with pytest.raises(RateLimitError) as limited:
                await store.initialize(
                    client.get(
                        f"{REST}/v5/order/realtime", params={"category": "linear", "symbol": SYMBOL}
                    )
                )
            assert limited.value.code == 10006
            await store.initialize(
                client.get(
                    f"{REST}/v5/order/realtime", params={"category": "linear", "symbol": SYMBOL}
                )
            )
            assert [r.status for r in fake.requests()][-2:] == [429, 200]


# -------------------------------------------------------------- the dialect itself


async def test_the_fake_speaks_bybit_on_the_wire() -> None:
    async with FakeExchange("bybit", rate=0, levels=20) as fake:
        base = fake.redirects["stream.bybit.com"]
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"{base}/v5/public/spot") as ws:
                await ws.send_json(
                    {"req_id": "r1", "op": "subscribe", "args": [f"orderbook.50.{SYMBOL}"]}
                )
                reply = await ws.receive_json()
                assert reply["success"] is True
                assert reply["op"] == "subscribe"
                assert reply["req_id"] == "r1"
                snapshot = await ws.receive_json()
                assert (snapshot["topic"], snapshot["type"]) == (
                    f"orderbook.50.{SYMBOL}",
                    "snapshot",
                )
                assert len(snapshot["data"]["b"]) == 20
                assert snapshot["data"]["u"] > 1
                await ws.send_json({"op": "subscribe", "args": [f"orderbook.50.{SYMBOL}"]})
                assert "already subscribed" in (await ws.receive_json())["ret_msg"]
                await ws.send_json({"op": "subscribe", "args": [f"orderbook.500.{SYMBOL}"]})
                assert (await ws.receive_json())["success"] is False
                await ws.send_json(
                    {"op": "subscribe", "args": [f"publicTrade.X{i}" for i in range(11)]}
                )
                assert (await ws.receive_json())["ret_msg"] == "error:args size >10"
                await ws.send_json({"req_id": "p", "op": "ping"})
                pong = await ws.receive_json()
                assert (pong["op"], pong["ret_msg"], pong["success"], pong["req_id"]) == (
                    "ping",
                    "pong",
                    True,
                    "p",
                )

            async with session.ws_connect(f"{base}/v5/private") as ws:
                await ws.send_json({"op": "subscribe", "args": ["order"]})
                assert (await ws.receive_json())["ret_msg"] == "Request not authorized"
                expires = int(fake.clock.time() * 1000) + 5000
                wrong = hmac.new(
                    b"nope", f"GET/realtime{expires}".encode(), hashlib.sha256
                ).hexdigest()
                await ws.send_json({"op": "auth", "args": [fake.api_key, expires, wrong]})
                refused = await ws.receive_json()
                assert (refused["op"], refused["success"]) == ("auth", False)
                secret = fake.api_secret.encode()
                good = hmac.new(
                    secret, f"GET/realtime{expires}".encode(), hashlib.sha256
                ).hexdigest()
                await ws.send_json(
                    {"req_id": "a", "op": "auth", "args": [fake.api_key, expires, good]}
                )
                accepted = await ws.receive_json()
                assert (accepted["op"], accepted["success"], accepted["req_id"]) == (
                    "auth",
                    True,
                    "a",
                )
                await ws.send_json({"op": "subscribe", "args": ["order", "position.linear"]})
                assert "cannot be mixed" in (await ws.receive_json())["ret_msg"]
                await ws.send_json({"op": "ping"})
                pong = await ws.receive_json()
                assert pong["op"] == "pong"
                assert pong["args"][0].isdigit()

            rest = fake.redirects["api.bybit.com"]
            cases: list[tuple[dict[str, Any], int]] = [
                ({"category": "linear", "symbol": "NOPE"}, 10001),
                ({"category": "inverse", "symbol": SYMBOL}, 10001),
                ({"symbol": SYMBOL}, 10001),
                ({"category": "linear", "symbol": SYMBOL, "limit": 5000}, 10001),
            ]
            for params, code in cases:
                async with session.get(f"{rest}/v5/market/orderbook", params=params) as resp:
                    body = json.loads(await resp.text())
                    assert (resp.status, body["retCode"]) == (200, code), params
            async with session.get(
                f"{rest}/v5/order/realtime", params={"category": "linear"}
            ) as resp:
                body = await resp.json()
                assert resp.status == 401
                assert body["retCode"] == 10004
            async with session.get(
                f"{rest}/v5/market/orderbook",
                params={"category": "linear", "symbol": SYMBOL, "limit": 3},
            ) as resp:
                body = await resp.json()
                assert body["retCode"] == 0
                assert len(body["result"]["a"]) == 3
                assert (
                    body["result"]["b"][0][0]
                    == fake.book(SYMBOL, venue="bybit-linear").top(1)[0][0][0]
                )
