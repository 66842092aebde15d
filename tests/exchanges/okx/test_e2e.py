"""End to end against the fake OKX (datastores.testing.FakeExchange("okx")): the real Client,
WebSocketApp and OKXDataStore on loopback. Books must equal the exchange's own after a
corrupted checksum, withheld updates, dropped connections, malformed frames and silent pings,
with and without the WebSocket snapshot (OKX's 2026 books); private pushes and signed REST must
agree with the scripted account, on production and on demo trading with separate keys."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from datastores import Backoff, Client, WebSocketAuthError
from datastores._errors import AuthenticationError, ExchangeAPIError, RateLimitError
from datastores.exchanges.okx.store import OKXDataStore
from datastores.testing import FakeExchange, VirtualClock
from datastores.testing.profiles.okx._books import okx_checksum
from datastores.testing.profiles.okx.profile import OKXProfile

PUBLIC = "wss://ws.okx.com:8443/ws/v5/public"
PRIVATE = "wss://ws.okx.com:8443/ws/v5/private"
DEMO_PUBLIC = "wss://wspap.okx.com:8443/ws/v5/public"
DEMO_PRIVATE = "wss://wspap.okx.com:8443/ws/v5/private"
REST = "https://www.okx.com"
DEMO = {"x-simulated-trading": "1"}
BTC = "BTC-USDT"
FAST = Backoff(initial=0.01, maximum=0.05)


def subscribe(*args: dict[str, str]) -> dict[str, Any]:
    return {"op": "subscribe", "args": list(args)}


def books(channel: str = "books", inst: str = BTC) -> dict[str, str]:
    return {"channel": channel, "instId": inst}


def profile(fake: FakeExchange, venue: str = "okx") -> OKXProfile:
    found = fake.venues[venue].profile
    assert isinstance(found, OKXProfile)
    return found


def okx_2026(fake: FakeExchange) -> None:
    """OKX's 2026 books: no WebSocket snapshot, checksum always 0."""
    for venue in fake.venues:
        profile(fake, venue).ws_snapshots = False
        profile(fake, venue).checksums = False


@pytest.fixture
async def fake() -> AsyncIterator[FakeExchange]:
    async with FakeExchange("okx", seed=5, rate=0, levels=450) as exchange:
        yield exchange


class Spy:
    """A second handler: records the events the store only logs."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, msg: Any, ws: Any) -> None:
        if isinstance(msg, dict) and "event" in msg:
            self.events.append(msg)

    def count(self, event: str, **fields: str) -> int:
        return sum(
            1
            for m in self.events
            if m["event"] == event
            and all(m.get(k) == v or (m.get("arg") or {}).get(k) == v for k, v in fields.items())
        )


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.002)


async def settle(
    fake: FakeExchange, condition: Callable[[], bool], venue: str = "okx", timeout: float = 5.0
) -> None:
    """Publish one update at a time until ``condition`` holds (a book waiting for
    REST bridges only when updates arrive)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        fake.tick(1, BTC, venue=venue)
        await fake.drain()
        await asyncio.sleep(0.003)


async def caught_up(
    fake: FakeExchange,
    store: OKXDataStore,
    *,
    venue: str = "okx",
    channel: str = "books",
    depth: int = 400,
) -> list[str]:
    """Wait until the store has applied the last book message published, then compare
    the book with the exchange's best ``depth`` levels (empty list: equal)."""
    book = store.books if store.book_channel(BTC) == channel else store.books_by_channel[channel]
    okx = profile(fake, venue)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5.0
    polls = 0
    while True:
        await fake.drain()
        status = book.status(BTC)
        if status.synced and status.last_update_id == okx.book_seq(BTC, channel):
            break
        assert loop.time() < deadline, f"store at {status}, exchange at {okx.book_seq(BTC)}"
        polls += 1
        if polls % 10 == 0:
            # A REST snapshot may be newer than the last message: the next one joins them.
            fake.tick(1, BTC, venue=venue)
        await asyncio.sleep(0.002)
    book._check()
    asks, bids = book.levels(BTC)
    return fake.book(BTC, venue=venue).differences(
        {str(b[0]): str(b[1]) for b in bids}, {str(a[0]): str(a[1]) for a in asks}, depth
    )


def book_requests(fake: FakeExchange) -> int:
    return sum(1 for r in fake.requests(venue="okx") if r.path == "/api/v5/market/books")


async def test_books_with_ws_snapshots_heal_after_every_fault(fake: FakeExchange) -> None:
    store = OKXDataStore()
    spy = Spy()
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        store.client = client
        app = await client.ws_connect(
            PUBLIC,
            send_json=subscribe(
                books(), books("books5"), books("bbo-tbt"), books("trades"), books("tickers")
            ),
            hdlr_json=[store.onmessage, spy],
            backoff=FAST,
        )
        await settle(fake, lambda: store.books.is_synced(BTC))
        fake.tick(30, BTC, venue="okx")
        assert await caught_up(fake, store) == []
        # The shallow flavours keep their own books; the ticker follows the top.
        top_bids, top_asks = fake.book(BTC, venue="okx").top(5)
        books5 = store.books_by_channel["books5"]
        bbo = store.books_by_channel["bbo-tbt"]
        await until(
            lambda: (
                [(a[0], a[1]) for a in books5.levels(BTC)[0]] == top_asks
                and [(b[0], b[1]) for b in books5.levels(BTC)[1]] == top_bids
            )
        )
        await until(lambda: [(b[0], b[1]) for b in bbo.levels(BTC)[1]] == top_bids[:1])
        assert [(a[0], a[1]) for a in bbo.levels(BTC)[0]] == top_asks[:1]
        await until(
            lambda: (store.tickers.get({"instId": BTC}) or {}).get("askPx") == top_asks[0][0]
        )
        assert store.trades.find()
        assert store.dropped_messages == 0

        # A corrupted checksum: detected, the channel resubscribed, a new snapshot heals it.
        fake.corrupt_checksum(BTC, venue="okx")
        await settle(fake, lambda: store.books.status(BTC).checksum_failures == 1)
        assert await caught_up(fake, store) == []
        assert spy.count("unsubscribe", channel="books") == 1

        # Withheld updates: a seqId gap, healed the same way.
        fake.skip_sequence(BTC, 3, venue="okx")
        fake.tick(4, BTC, venue="okx")
        await settle(fake, lambda: store.books.status(BTC).gaps == 1)
        assert await caught_up(fake, store) == []
        assert spy.count("unsubscribe", channel="books") == 2

        # The connection drops (now, then after a few messages): reconnect, resubscribe.
        for drop in (lambda: fake.drop_connections(), lambda: fake.drop_after(3, venue="okx")):
            opened = fake.venues["okx"].stats.connections_opened
            assert drop() == 1
            await settle(fake, lambda o=opened: fake.venues["okx"].stats.connections_opened > o)
            assert await caught_up(fake, store) == []

        # OKX's keep-alive and a sequence reset after maintenance are not gaps.
        assert profile(fake).keepalive(BTC) == 1
        profile(fake).reset_sequence(BTC)
        fake.tick(5, BTC, venue="okx")
        assert await caught_up(fake, store) == []

        # Malformed, truncated and unknown-channel frames: dropped and counted.
        errors_before = store.books.status(BTC).errors
        assert fake.send_malformed(BTC, venue="okx") == 1
        assert fake.send_truncated(venue="okx") == 1
        assert fake.send_unknown_channel(BTC, venue="okx") == 1
        await settle(fake, lambda: "fake-unknown-channel" in store.generic_channels)
        await until(lambda: app.statistics().undecodable == 1)
        assert store.books.status(BTC).errors == errors_before + 1
        assert await caught_up(fake, store) == []

        status = store.books.status(BTC)
        assert (status.gaps, status.checksum_failures) == (1, 1)
        assert status.resyncs >= 5  # checksum, gap, two reconnects, malformed
        assert store.statistics().handler_errors == 0
        assert store.error_events == 0
        assert app.statistics().reconnects == 2
        await app.close()


async def test_books_without_ws_snapshots_bootstrap_from_rest(fake: FakeExchange) -> None:
    okx_2026(fake)
    store = OKXDataStore()
    clock = VirtualClock(settle=0.003)
    async with Client(apis=fake.apis, redirects=fake.redirects, clock=clock) as client:
        store.client = client
        app = await client.ws_connect(
            PUBLIC,
            send_json=subscribe(books()),
            hdlr_json=store.onmessage,
            heartbeat=None,
            backoff=FAST,
        )
        await settle(fake, lambda: store.books.is_synced(BTC))
        assert store.books.received_checksum[BTC] == 0
        fake.tick(20, BTC, venue="okx")
        assert await caught_up(fake, store) == []
        assert book_requests(fake) == 1
        assert fake.requests(venue="okx")[0].query == "instId=BTC-USDT&sz=400&source=0"

        # A gap while the snapshot endpoint is rate limited twice: backoff, then REST heals.
        fake.fail_rest(429, times=2, path="/api/v5/market/books")
        fake.skip_sequence(BTC, 2, venue="okx")
        fake.tick(3, BTC, venue="okx")
        await settle(fake, lambda: store.books.status(BTC).gaps == 1)
        assert await caught_up(fake, store) == []
        assert book_requests(fake) == 4
        assert [r.status for r in fake.requests(venue="okx")][-3:] == [429, 429, 200]

        # A non-zero wrong checksum is still verified; a reconnect resyncs from REST too.
        fake.corrupt_checksum(BTC, venue="okx")
        await settle(fake, lambda: store.books.status(BTC).checksum_failures == 1)
        assert await caught_up(fake, store) == []
        fake.drop_connections()
        await settle(fake, lambda: app.statistics().reconnects == 1)
        assert await caught_up(fake, store) == []
        assert book_requests(fake) == 6
        assert store.books.status(BTC).gaps == 1
        await app.close()


async def test_l2_tbt_books_need_a_login_and_keep_their_depth(fake: FakeExchange) -> None:
    store = OKXDataStore()
    spy = Spy()
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        # The WebSocketApp logs in on a public connection only for the VIP books.
        app = await client.ws_connect(
            PUBLIC,
            send_json=subscribe(books("books50-l2-tbt")),
            hdlr_json=[store.onmessage, spy],
        )
        await settle(fake, lambda: store.books.is_synced(BTC))
        fake.tick(20, BTC, venue="okx")
        assert await caught_up(fake, store, channel="books50-l2-tbt", depth=50) == []
        assert len(store.books.levels(BTC)[0]) == 50
        assert spy.count("login", code="0") == 1
        async with Client(apis={}, redirects=fake.redirects) as anonymous:
            other = Spy()
            await anonymous.ws_connect(
                PUBLIC, send_json=subscribe(books("books-l2-tbt")), hdlr_json=other
            )
            await until(lambda: other.count("error", code="60011") == 1)
        await app.close()


async def test_subscription_errors_are_okx_error_events(fake: FakeExchange) -> None:
    store = OKXDataStore()
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        app = await client.ws_connect(
            PUBLIC,
            send_json=subscribe(
                books("books4"), books(inst="NOPE-USDT"), {"channel": "orders", "instType": "ANY"}
            ),
            hdlr_json=store.onmessage,
        )
        await until(lambda: store.error_events == 3)
        assert store.dropped_messages == 0
        await app.close()


async def test_silent_pongs_lead_to_a_reconnect_and_a_resync(fake: FakeExchange) -> None:
    store = OKXDataStore()
    clock = VirtualClock(settle=0.003)
    async with Client(apis=fake.apis, redirects=fake.redirects, clock=clock) as client:
        store.client = client
        # Only OKX's text heartbeat ("ping" after 20 s of silence, "pong" within 10 s).
        app = await client.ws_connect(
            PUBLIC,
            send_json=subscribe(books()),
            hdlr_json=store.onmessage,
            heartbeat=None,
            backoff=FAST,
        )
        await settle(fake, lambda: store.books.is_synced(BTC))
        fake.stop_answering_pings(venue="okx")
        await until(lambda: app.statistics().heartbeat_timeouts >= 1)
        fake.answer_pings(venue="okx")
        await settle(fake, lambda: app.statistics().reconnects >= 1)
        assert await caught_up(fake, store) == []
        assert store.books.status(BTC).resyncs >= 1
        await app.close()


async def test_private_channels_and_initialize_follow_the_scripted_account(
    fake: FakeExchange,
) -> None:
    store = OKXDataStore()
    spy = Spy()
    fake.set_balance("USDT", "1000", "50", venue="okx")
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        app = await client.ws_connect(
            PRIVATE,
            send_json=subscribe(
                {"channel": "orders", "instType": "ANY"},
                {"channel": "positions", "instType": "SWAP"},
                {"channel": "account"},
                {"channel": "balance_and_position"},
            ),
            hdlr_json=[store.onmessage, spy],
        )
        # Initial pushes: the balance (account, balance_and_position), no position.
        await until(lambda: store.account.details.get({"ccy": "USDT"}) is not None)
        assert store.account.details.get({"ccy": "USDT"})["availBal"] == "1000"  # type: ignore[index]
        await until(lambda: store.balance_and_position.balance.get({"ccy": "USDT"}) is not None)
        assert spy.count("login", code="0") == 1
        assert spy.count("channel-conn-count", channel="orders") == 1

        kept = fake.place_order(BTC, "BUY", "0.5", "60000", venue="okx")
        gone = fake.place_order(BTC, "SELL", "0.2", "70000", venue="okx")
        filled = fake.place_order("BTC-USDT-SWAP", "BUY", "3", "64000", venue="okx")
        fake.fill_order(kept.order_id, "0.2", venue="okx")
        fake.cancel_order(gone.order_id, venue="okx")
        fake.fill_order(filled.order_id, venue="okx")
        fake.set_position("BTC-USDT-SWAP", "3", "64000", venue="okx")
        fake.set_position("ETH-USDT", "1", "3000", venue="okx")  # SPOT: not in instType SWAP
        fake.set_balance("BTC", "0.2", venue="okx")
        await fake.drain()
        key = {"instId": "BTC-USDT-SWAP", "mgnMode": "cross", "posSide": "net"}
        await until(lambda: store.positions.get(key) is not None)
        await until(lambda: store.account.details.get({"ccy": "BTC"}) is not None)

        assert [o["ordId"] for o in store.orders.find()] == [str(kept.order_id)]
        order = store.orders.get({"ordId": str(kept.order_id)})
        assert order is not None
        assert (order["state"], order["accFillSz"], order["fillSz"], order["avgPx"]) == (
            "partially_filled", "0.2", "0.2", "60000",
        )  # fmt: skip
        assert store.positions.get(key)["pos"] == "3"  # type: ignore[index]
        assert len(store.positions.find()) == 1
        assert store.balance_and_position.position.get(key)["avgPx"] == "64000"  # type: ignore[index]
        assert store.account.details.get({"ccy": "USDT"})["eq"] == "1050"  # type: ignore[index]
        assert store.dropped_messages == 0

        # REST agrees (signed requests, verified by the fake).
        fresh = OKXDataStore()
        await fresh.initialize(
            client.get(f"{REST}/api/v5/trade/orders-pending"),
            client.get(
                f"{REST}/api/v5/trade/orders-algo-pending", params={"ordType": "conditional,oco"}
            ),
        )
        [rest_order] = fresh.orders.find()
        for field in ("ordId", "instId", "px", "sz", "side", "state", "accFillSz", "avgPx"):
            assert rest_order[field] == order[field]
        positions = await client.fetch("GET", f"{REST}/api/v5/account/positions")
        assert [p["instId"] for p in positions.data["data"]] == ["BTC-USDT-SWAP", "ETH-USDT"]
        statuses = [r.status for r in fake.requests(venue="okx")]
        assert statuses == [200, 200, 200]
        await app.close()


async def test_demo_trading_uses_its_own_keys_market_and_account(fake: FakeExchange) -> None:
    assert fake.apis["okx"] != fake.apis["okx_demo"]
    live, demo = OKXDataStore(), OKXDataStore()
    live_order = fake.place_order(BTC, "BUY", "0.1", "60000", venue="okx")
    demo_order = fake.place_order(BTC, "BUY", "0.3", "61000", venue="okx-demo")
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        # REST: the header selects the demo key, the demo account and the demo market.
        await live.initialize(client.get(f"{REST}/api/v5/trade/orders-pending"))
        await demo.initialize(client.get(f"{REST}/api/v5/trade/orders-pending", headers=DEMO))
        assert [o["ordId"] for o in live.orders.find()] == [str(live_order.order_id)]
        assert [o["ordId"] for o in demo.orders.find()] == [str(demo_order.order_id)]

        # WebSocket: wspap.okx.com logs in with okx_demo; its books come from the demo
        # market, and a REST snapshot for them is fetched with the demo header.
        okx_2026(fake)
        demo.client = client
        app = await client.ws_connect(
            DEMO_PRIVATE,
            send_json=subscribe({"channel": "orders", "instType": "SPOT"}),
            hdlr_json=demo.onmessage,
        )
        books_app = await client.ws_connect(
            DEMO_PUBLIC, send_json=subscribe(books()), hdlr_json=demo.onmessage
        )
        await settle(fake, lambda: demo.books.is_synced(BTC), venue="okx-demo")
        fake.tick(10, BTC, venue="okx-demo")
        assert await caught_up(fake, demo, venue="okx-demo") == []
        assert fake.book(BTC, venue="okx-demo") != fake.book(BTC, venue="okx")
        fake.fill_order(demo_order.order_id, venue="okx-demo")
        await until(lambda: demo.orders.find() == [])
        await app.close()
        await books_app.close()

    # Keys are checked per environment: the production key is refused on demo trading
    # (REST and WebSocket), and the demo key on production.
    live_creds, demo_creds = fake.apis["okx"], fake.apis["okx_demo"]
    crossed = {"okx": demo_creds, "okx_demo": live_creds}
    async with Client(apis=crossed, redirects=fake.redirects) as client:
        for headers in (None, DEMO):
            with pytest.raises(AuthenticationError) as refused:
                await OKXDataStore().initialize(
                    client.get(f"{REST}/api/v5/trade/orders-pending", headers=headers)
                )
            assert refused.value.code == "50101"
        for url in (PRIVATE, DEMO_PRIVATE):
            with pytest.raises(WebSocketAuthError, match="60009"):
                await client.ws_connect(
                    url, send_json=subscribe({"channel": "account"}), backoff=FAST
                )
    wrong = {"okx": [live_creds[0], "not-the-secret", live_creds[2]]}
    async with Client(apis=wrong, redirects=fake.redirects) as client:
        result = await client.fetch("GET", f"{REST}/api/v5/trade/orders-pending")
        assert (result.response.status, result.data["code"]) == (401, "50113")
        assert result.data["data"] == []


async def test_rest_errors_have_okx_shapes(fake: FakeExchange) -> None:
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        fake.fail_rest(429, path="/api/v5/trade")
        with pytest.raises(RateLimitError) as limited:
            await OKXDataStore().initialize(client.get(f"{REST}/api/v5/trade/orders-pending"))
        assert limited.value.code == "50011"
        fake.fail_rest(503)
        result = await client.fetch("GET", f"{REST}/api/v5/market/books", params={"instId": BTC})
        assert (result.response.status, result.data) == (
            503,
            {
                "code": "50001",
                "msg": "Service temporarily unavailable. Please try again later",
                "data": [],
            },
        )
        for params, code in (
            ({}, "50014"),
            ({"instId": "NOPE"}, "51001"),
            ({"instId": BTC, "sz": "401"}, "51000"),
        ):
            result = await client.fetch("GET", f"{REST}/api/v5/market/books", params=params)
            assert (result.response.status, result.data["code"]) == (400, code)
        with pytest.raises(ExchangeAPIError) as missing:
            await OKXDataStore().initialize(client.get(f"{REST}/api/v5/trade/orders-algo-pending"))
        assert missing.value.code == "50014"
        store = OKXDataStore()
        await store.initialize(
            client.get(f"{REST}/api/v5/market/books", params={"instId": BTC, "sz": "400"})
        )
        asks, bids = store.books.levels(BTC)
        truth = fake.book(BTC, venue="okx")
        assert truth.differences({b[0]: b[1] for b in bids}, {a[0]: a[1] for a in asks}, 400) == []


def test_the_fakes_checksum_follows_the_documented_rule() -> None:
    def signed(text: str) -> int:
        value = zlib.crc32(text.encode())
        return value - (1 << 32) if value >= 1 << 31 else value

    # The docs' example, then a side shorter than the other (its levels are skipped).
    bids = [["3366.1", "7", "0", "3"], ["3366", "6", "3", "4"]]
    asks = [["3366.8", "9", "10", "3"], ["3368", "8", "3", "4"]]
    assert okx_checksum(asks, bids) == signed("3366.1:7:3366.8:9:3366:6:3368:8")
    asks.append(["3372", "8", "3", "4"])
    assert okx_checksum(asks, bids[:1]) == signed("3366.1:7:3366.8:9:3368:8:3372:8")
    # Only the best 25 levels per side count.
    many = [[str(100 + i), "1", "0", "1"] for i in range(30)]
    assert okx_checksum(many, []) == okx_checksum(many[:25], [])
    assert okx_checksum(many, []) != okx_checksum(many[:24], [])


async def test_a_recording_of_rest_bootstrapped_books_replays_to_the_same_book(
    fake: FakeExchange, tmp_path: Any
) -> None:
    """The REST snapshots the store fetches by itself reach the recorder through the
    collection's response observers, so the replay bootstraps and heals as live did."""
    from datastores import Recorder, replay

    okx_2026(fake)
    store = OKXDataStore()
    path = tmp_path / "okx.jsonl"
    clock = VirtualClock(settle=0.003)
    async with Client(apis=fake.apis, redirects=fake.redirects, clock=clock) as client:
        store.client = client
        with Recorder(path) as recorder:
            recorder.attach(store)
            app = await client.ws_connect(
                PUBLIC,
                send_json=subscribe(books()),
                hdlr_json=recorder.wrap(store.onmessage),
                heartbeat=None,
                backoff=FAST,
            )
            await settle(fake, lambda: store.books.is_synced(BTC))
            fake.tick(20, BTC, venue="okx")
            assert await caught_up(fake, store) == []
            fake.skip_sequence(BTC, 2, venue="okx")
            fake.tick(3, BTC, venue="okx")
            await settle(fake, lambda: store.books.status(BTC).gaps == 1)
            assert await caught_up(fake, store) == []
            await app.close()
        # every snapshot the store applied (bootstrap, any too-old retry, the resync)
        assert recorder.counts["rest"] >= 2
    replayed = OKXDataStore()
    stats = await replay(path, replayed)
    assert stats.responses == recorder.counts["rest"]
    status = replayed.books.status(BTC)
    assert status.synced
    assert status.gaps == 1
    assert status.last_update_id == store.books.status(BTC).last_update_id
    live_book = store.books.sorted({"instId": BTC})
    assert replayed.books.sorted({"instId": BTC}) == live_book
