"""The bridge driven as FMZ's docker drives it, against the fake OKX."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import aiohttp
from _fmztools import ACCESS_KEY, PASSPHRASE, SECRET, Agent

from datastores.apps.fmz.server import FMZBridge
from datastores.testing import FakeExchange
from datastores.testing.profiles.okx.profile import OKXProfile

BTC = "BTC-USDT"


async def test_depth_equals_the_fake_book(okx_agent: Agent, okx_fake: FakeExchange) -> None:
    depth = await okx_agent.data("depth", {"symbol": "BTC_USDT", "limit": "30"})
    assert set(depth) == {"time", "asks", "bids"}
    top_bids, top_asks = okx_fake.book(BTC, venue="okx").top(30)
    assert [tuple(a) for a in depth["asks"]] == top_asks
    assert [tuple(b) for b in depth["bids"]] == top_bids
    # The book follows the market.
    okx_fake.tick(20, BTC, venue="okx")
    await okx_fake.drain()
    top_bids, top_asks = okx_fake.book(BTC, venue="okx").top(5)

    async def same() -> bool:
        depth = await okx_agent.data("depth", {"symbol": "BTC_USDT", "limit": 5})
        return [tuple(a) for a in depth["asks"]] == top_asks and [
            tuple(b) for b in depth["bids"]
        ] == top_bids

    for _ in range(200):
        if await same():
            break
        await asyncio.sleep(0.01)
    assert await same()
    assert Decimal(depth["asks"][0][0]) > Decimal(depth["bids"][0][0])


async def test_swap_depth_and_ticker(okx_agent: Agent, okx_fake: FakeExchange) -> None:
    depth = await okx_agent.data("depth", {"symbol": "BTC_USDT.swap", "limit": "10"})
    top_bids, top_asks = okx_fake.book("BTC-USDT-SWAP", venue="okx").top(10)
    assert [tuple(a) for a in depth["asks"]] == top_asks
    assert [tuple(b) for b in depth["bids"]] == top_bids
    ticker = await okx_agent.data("ticker", {"symbol": "BTC_USDT.swap"})
    assert set(ticker) == {"symbol", "buy", "sell", "high", "low", "open", "last", "vol", "time"}
    assert ticker["symbol"] == "BTC_USDT.swap"
    assert Decimal(ticker["sell"]) > Decimal(ticker["buy"]) > 0
    assert ticker["time"].isdigit()


async def test_unknown_symbol_is_refused_without_waiting(okx_agent: Agent) -> None:
    error = await okx_agent.error("depth", {"symbol": "NOPE_USDT"})
    assert "NOPE_USDT" in error


async def test_unsynced_book_is_refused_with_the_reason(okx_fake: FakeExchange) -> None:
    # OKX's 2026 books: no WebSocket snapshot, the store heals from REST, which fails here.
    profile = okx_fake.venues["okx"].profile
    assert isinstance(profile, OKXProfile)
    profile.ws_snapshots = False
    profile.checksums = False
    async with (
        FMZBridge(
            port=0, sync_timeout=0.5, client_kwargs={"redirects": okx_fake.redirects}
        ) as bridge,
        aiohttp.ClientSession() as session,
    ):
        agent = Agent(bridge.url, session, secret_key=f"{SECRET},{PASSPHRASE}")
        okx_fake.fail_rest(503, times=1000, path="/api/v5/market/books")
        error = await agent.error("depth", {"symbol": "BTC_USDT"})
        assert error.startswith("order book of BTC_USDT is not synced (")
        for venue in okx_fake.venues.values():
            venue.faults.rest.clear()
        # Updates arrive, the REST snapshot is fetched again and bridged: answers resume.
        for _ in range(500):
            okx_fake.tick(1, BTC, venue="okx")
            await okx_fake.drain()
            reply = await agent.call("depth", {"symbol": "BTC_USDT", "limit": 5})
            if "data" in reply:
                break
        top_bids, top_asks = okx_fake.book(BTC, venue="okx").top(5)
        assert [tuple(a) for a in reply["data"]["asks"]] == top_asks
        assert [tuple(b) for b in reply["data"]["bids"]] == top_bids


async def test_trades_and_concurrent_calls(okx_agent: Agent, okx_fake: FakeExchange) -> None:
    symbols = ["BTC_USDT", "ETH_USDT", "BTC_USDT.swap"]
    replies = await asyncio.gather(
        *(okx_agent.call("depth", {"symbol": s, "limit": "3"}) for s in symbols * 3)
    )
    assert all(set(r) == {"data"} and len(r["data"]["asks"]) == 3 for r in replies)
    okx_fake.tick(200, "ETH-USDT", venue="okx")
    await okx_fake.drain()
    trades = await okx_agent.data("trades", {"symbol": "eth_usdt"})
    assert trades
    for trade in trades:
        assert set(trade) == {"id", "time", "price", "amount", "type"}
        assert trade["type"] in ("buy", "sell")
        assert Decimal(trade["amount"]) > 0


async def test_private_state_follows_the_account(okx_agent: Agent, okx_fake: FakeExchange) -> None:
    okx_fake.set_balance("USDT", "1000", "50", venue="okx")
    okx_fake.set_balance("BTC", "0.5", venue="okx")
    resting = okx_fake.place_order(BTC, "BUY", "0.5", "60000", venue="okx")
    accounts = await okx_agent.data("accounts")
    assert {a["currency"]: (a["free"], a["frozen"]) for a in accounts} == {
        "USDT": ("1000", "50"),
        "BTC": ("0.5", "0"),
    }
    assert await okx_agent.data("assets") == accounts
    # Bootstrapped from orders-pending, then followed on the private stream.
    [order] = await okx_agent.data("orders", {"symbol": "BTC_USDT"})
    assert order == {
        "id": f"{BTC},{resting.order_id}",
        "symbol": "BTC_USDT",
        "amount": "0.5",
        "price": "60000",
        "deal_amount": "0",
        "avg_price": "0",
        "type": "buy",
        "status": "pending",
    }
    assert await okx_agent.data("orders", {"symbol": "ETH_USDT"}) == []
    okx_fake.fill_order(resting.order_id, "0.2", venue="okx")

    async def status() -> str:
        found = await okx_agent.data("order", {"id": order["id"], "symbol": "BTC_USDT"})
        return str(found["status"]) + "/" + str(found["deal_amount"])

    for _ in range(500):
        if await status() == "partial-filled/0.2":
            break
        await asyncio.sleep(0.01)
    assert await status() == "partial-filled/0.2"
    okx_fake.cancel_order(resting.order_id, venue="okx")
    for _ in range(500):
        if await okx_agent.data("orders") == []:
            break
        await asyncio.sleep(0.01)
    assert await okx_agent.data("orders") == []
    assert await status() == "partial-canceled/0.2"


async def test_positions_follow_the_account(okx_agent: Agent, okx_fake: FakeExchange) -> None:
    assert await okx_agent.data("positions") == []
    okx_fake.set_position("BTC-USDT-SWAP", "3", "64000", venue="okx")

    async def positions(params: dict[str, str] | None = None) -> list[dict[str, object]]:
        for _ in range(500):
            rows: list[dict[str, object]] = await okx_agent.data("GetPositions", params)
            if rows and rows[0]["type"] == (0 if expected_long else 1):
                return rows
            if not rows and expect_none:
                return rows
            await asyncio.sleep(0.01)
        raise AssertionError("positions did not follow")

    expected_long, expect_none = True, False
    [long] = await positions()
    assert long == {
        "symbol": "BTC_USDT.swap",
        "margin_level": "10",
        "amount": "3",
        "frozen_amount": "0",
        "price": "64000",
        "profit": "0",
        "type": 0,
        "contract_type": "swap",
        "margin": "0",
    }
    assert await okx_agent.data("positions", {"symbol": "USDT.swap"}) == [long]
    assert await okx_agent.data("positions", {"symbol": "BTC_USDT.swap"}) == [long]
    assert await okx_agent.data("positions", {"symbol": "USDT.futures"}) == []
    assert await okx_agent.data("positions", {"symbol": "ETH_USDT.swap"}) == []
    okx_fake.set_position("BTC-USDT-SWAP", "-2", "65000", venue="okx")
    expected_long = False
    [short] = await positions()
    assert (short["amount"], short["type"], short["price"]) == ("2", 1, "65000")
    okx_fake.set_position("BTC-USDT-SWAP", "0", venue="okx")
    expect_none = True
    for _ in range(500):
        if await okx_agent.data("positions") == []:
            break
        await asyncio.sleep(0.01)
    assert await okx_agent.data("positions") == []


async def test_api_pass_through_with_the_http_method_header(
    okx_agent: Agent, okx_fake: FakeExchange
) -> None:
    okx_fake.place_order(BTC, "SELL", "0.1", "70000", venue="okx")
    reply = await okx_agent.data(
        "__api_/api/v5/trade/orders-pending",
        {"instType": "SPOT", "instId": BTC},
        headers={"Http-Method": "GET"},
    )
    assert reply["code"] == "0"
    assert [o["px"] for o in reply["data"]] == ["70000"]
    for path in ("/api/v5/asset/withdrawal", "/api/v5/asset/transfer", "/sapi/v1/sub-account/x"):
        error = await okx_agent.error("__api_" + path, headers={"Http-Method": "POST"})
        assert "refused" in error
        assert "--allow-unsafe-api" in error
    for path in ("https://evil.example/x", "/api/../v5", "/api/v5?x=1"):
        error = await okx_agent.error("__api_" + path, headers={"Http-Method": "GET"})
        assert error.startswith("invalid api path")
    assert "Http-Method" in await okx_agent.error(
        "__api_/api/v5/account/balance", headers={"Http-Method": "TRACE"}
    )
    # A reply that is not JSON is an error naming the endpoint and the status.
    error = await okx_agent.error("__api_/api/v5/trade/nothing", headers={"Http-Method": "GET"})
    assert error == "OKX GET /api/v5/trade/nothing: HTTP 404, the reply is not JSON"
    # Outside the allow-list (the funding account, other API families): refused.
    for path in ("/api/v5/asset/balances", "/api/v5/no/such/path"):
        error = await okx_agent.error("__api_" + path, headers={"Http-Method": "GET"})
        assert error.startswith(f"api path '{path}' refused: outside the allowed paths")


async def test_allow_unsafe_api_opens_the_withdrawal_paths(okx_fake: FakeExchange) -> None:
    async with (
        FMZBridge(
            port=0, allow_unsafe_api=True, client_kwargs={"redirects": okx_fake.redirects}
        ) as bridge,
        aiohttp.ClientSession() as session,
    ):
        agent = Agent(bridge.url, session, secret_key=f"{SECRET},{PASSPHRASE}")
        reply = await agent.call("__api_/api/v5/asset/withdrawal", headers={"Http-Method": "POST"})
        # Forwarded: whatever the (fake) exchange answers, it is not the bridge's refusal.
        assert "--allow-unsafe-api" not in json.dumps(reply)


async def test_a_failed_private_bootstrap_is_retried(
    okx_agent: Agent, okx_fake: FakeExchange
) -> None:
    okx_fake.set_balance("USDT", "7", venue="okx")
    okx_fake.fail_rest(500, times=1, path="/api/v5/trade/orders-pending")
    error = await okx_agent.error("orders")
    assert "orders-pending" in error
    assert "500" in error
    order = okx_fake.place_order(BTC, "SELL", "1", "99000", venue="okx")
    [found] = await okx_agent.data("orders")
    assert found["id"] == f"{BTC},{order.order_id}"
    assert await okx_agent.data("accounts") == [{"currency": "USDT", "free": "7", "frozen": "0"}]


async def test_open_orders_are_reloaded_after_the_private_stream_reconnects(
    okx_agent: Agent, okx_fake: FakeExchange
) -> None:
    gone = okx_fake.place_order(BTC, "BUY", "0.1", "50000", venue="okx")
    kept = okx_fake.place_order(BTC, "BUY", "0.2", "51000", venue="okx")
    assert len(await okx_agent.data("orders")) == 2
    okx_fake.drop_connections()
    # Canceled while nobody listens: no push ever tells the bridge.
    okx_fake.cancel_order(gone.order_id, venue="okx")
    for _ in range(500):
        if [r["id"] for r in await okx_agent.data("orders")] == [f"{BTC},{kept.order_id}"]:
            break
        await asyncio.sleep(0.01)
    assert [r["id"] for r in await okx_agent.data("orders")] == [f"{BTC},{kept.order_id}"]


async def test_legacy_io_codes(okx_agent: Agent, okx_fake: FakeExchange) -> None:
    okx_fake.set_position("BTC-USDT-SWAP", "4", "64000", venue="okx")
    body = {"access_key": ACCESS_KEY, "secret_key": f"{SECRET},{PASSPHRASE}", "nonce": 1}
    for _ in range(500):
        reply = await okx_agent.post("/OKX", json.dumps({**body, "method": "io", "code": 3}))
        if reply["data"]:
            break
        await asyncio.sleep(0.01)
    assert [(p["symbol"], p["amount"]) for p in reply["data"]] == [("BTC_USDT.swap", "4")]
    for code in (1, 2, "x"):
        reply = await okx_agent.post("/OKX", json.dumps({**body, "method": "io", "code": code}))
        assert reply == {"error": f"not support: io code {code}"}
    reply = await okx_agent.post("/OKX", json.dumps({**body, "method": "io", "code": 0}))
    assert reply == {"error": "io code 0 (SetMarginLevel) takes args [level]"}
