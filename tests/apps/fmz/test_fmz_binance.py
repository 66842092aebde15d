"""The Binance adapter against the fake Binance (spot and USDⓈ-M): market data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from _fmztools import ACCESS_KEY, SECRET, Agent

from datastores.apps.fmz.adapter import decimal_text
from datastores.apps.fmz.server import FMZBridge
from datastores.testing import FakeExchange


@pytest.fixture
async def binance() -> AsyncIterator[tuple[Agent, FakeExchange]]:
    async with (
        FakeExchange(
            ["binance-spot", "binance-usdsm"],
            seed=4,
            rate=0,
            levels=300,
            api_key=ACCESS_KEY,
            api_secret=SECRET,
        ) as fake,
        FMZBridge(port=0, client_kwargs={"redirects": fake.redirects}) as bridge,
        aiohttp.ClientSession() as session,
    ):
        yield Agent(bridge.url, session, secret_key=SECRET), fake


async def test_depth_of_spot_and_perpetual_equals_the_fake_books(
    binance: tuple[Agent, FakeExchange],
) -> None:
    agent, fake = binance
    for symbol, venue in (("BTC_USDT", "binance-spot"), ("BTC_USDT.swap", "binance-usdsm")):
        depth = await agent.data("depth", {"symbol": symbol, "limit": 20}, exchange="Binance")
        top_bids, top_asks = fake.book("BTCUSDT", venue=venue).top(20)
        assert [tuple(a) for a in depth["asks"]] == top_asks
        assert [tuple(b) for b in depth["bids"]] == top_bids
    fake.tick(50, "BTCUSDT", venue="binance-spot")
    await fake.drain()
    top_bids, top_asks = fake.book("BTCUSDT", venue="binance-spot").top(5)
    for _ in range(300):
        depth = await agent.data("depth", {"symbol": "btc_usdt", "limit": "5"}, exchange="binance")
        if [tuple(a) for a in depth["asks"]] == top_asks:
            break
        await asyncio.sleep(0.01)
    assert [tuple(a) for a in depth["asks"]] == top_asks
    assert [tuple(b) for b in depth["bids"]] == top_bids
    trades = await agent.data("trades", {"symbol": "BTC_USDT"}, exchange="Binance")
    assert trades
    for trade in trades:
        assert set(trade) == {"id", "time", "price", "amount", "type"}
        assert Decimal(trade["price"]) > 0


async def test_unsupported_methods_and_symbols_say_so(
    binance: tuple[Agent, FakeExchange],
) -> None:
    agent, _ = binance
    for method in ("records", "GetFundings", "ticker", "setMarginLevel", "markets"):
        assert await agent.error(method, exchange="Binance") == f"not support: {method}"
    error = await agent.error("depth", {"symbol": "BTC_USD.swap"}, exchange="Binance")
    assert "only spot and USDT/USDC-margined .swap" in error
    error = await agent.error("depth", {"symbol": "NOPE_USDT"}, exchange="Binance")
    assert error.startswith("order book of NOPE_USDT unavailable: ")
    assert "Invalid symbol" in error


async def eventually(agent: Agent, method: str, params: dict[str, Any], expected: Any) -> None:
    for _ in range(500):
        if await agent.data(method, params, exchange="Binance") == expected:
            return
        await asyncio.sleep(0.01)
    assert await agent.data(method, params, exchange="Binance") == expected


async def test_private_state_of_spot_and_futures(binance: tuple[Agent, FakeExchange]) -> None:
    agent, fake = binance
    fake.set_balance("USDT", "1000", "25", venue="binance-spot")
    fake.set_balance("USDT", "500", venue="binance-usdsm")
    resting = fake.place_order("BTCUSDT", "BUY", "0.01", "60000", venue="binance-spot")
    assert await agent.data("accounts", exchange="Binance") == [
        {"currency": "USDT", "free": "1000", "frozen": "25"}
    ]
    assert await agent.data("GetAccount", exchange="BinanceFutures") == [
        {"currency": "USDT", "free": "500", "frozen": "0"}
    ]
    expected = {
        "id": f"BTCUSDT,{resting.order_id}",
        "symbol": "BTC_USDT",
        "amount": "0.01",
        "price": "60000",
        "deal_amount": "0",
        "avg_price": "0",
        "type": "buy",
        "status": "pending",
    }
    assert await agent.data("orders", {"symbol": "BTC_USDT"}, exchange="Binance") == [expected]
    fake.fill_order(resting.order_id, "0.004", "59990", venue="binance-spot")
    partial = {**expected, "deal_amount": "0.004", "avg_price": "59990", "status": "partial-filled"}
    await eventually(agent, "order", {"id": expected["id"]}, partial)
    fake.cancel_order(resting.order_id, venue="binance-spot")
    await eventually(agent, "orders", {"symbol": "BTC_USDT"}, [])
    await eventually(
        agent, "order", {"id": expected["id"]}, {**partial, "status": "partial-canceled"}
    )

    # Futures: open orders and positions follow the listenKey stream.
    assert await agent.data("positions", exchange="Binance") == []
    short = fake.place_order("ETHUSDT", "SELL", "2", "3300", venue="binance-usdsm")
    await eventually(
        agent,
        "orders",
        {"symbol": "ETH_USDT.swap"},
        [
            {
                "id": f"ETHUSDT.P,{short.order_id}",
                "symbol": "ETH_USDT.swap",
                "amount": "2",
                "price": "3300",
                "deal_amount": "0",
                "avg_price": "0",
                "type": "sell",
                "status": "pending",
            }
        ],
    )
    fake.fill_order(short.order_id, venue="binance-usdsm")
    fake.set_position("ETHUSDT", "-2", "3300", venue="binance-usdsm")
    position = {
        "symbol": "ETH_USDT.swap",
        "margin_level": "0",
        "amount": "2",
        "frozen_amount": "0",
        "price": "3300",
        "profit": "0",
        "type": 1,
        "contract_type": "swap",
        "margin": "0",
    }
    await eventually(agent, "positions", {"symbol": "USDT.swap"}, [position])
    await eventually(agent, "orders", {"symbol": "ETH_USDT.swap"}, [])
    found = await agent.data("order", {"id": f"ETHUSDT.P,{short.order_id}"}, exchange="Binance")
    assert (found["status"], found["deal_amount"], found["avg_price"]) == ("filled", "2", "3300")


async def wait_for(agent: Agent, method: str, params: dict[str, Any], check: Any) -> Any:
    for _ in range(500):
        found = await agent.data(method, params, exchange="Binance")
        if check(found):
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"{method} never matched: {found}")


async def test_orders_and_positions_through_the_bridge(
    binance: tuple[Agent, FakeExchange],
) -> None:
    """Against the fake's own matching engine: resting, canceled and filled orders."""
    agent, fake = binance
    fake.set_balance("USDT", "100000", venue="binance-spot")
    fake.set_balance("USDT", "100000", venue="binance-usdsm")
    best_bid = Decimal(fake.book("BTCUSDT", venue="binance-spot").top(1)[0][0][0])
    price = decimal_text(best_bid - 1000)
    placed = await agent.data(
        "trade",
        {"symbol": "BTC_USDT", "type": "buy", "price": price, "amount": "0.0100"},
        exchange="Binance",
    )
    assert placed["id"].startswith("BTCUSDT,")
    [resting] = await wait_for(agent, "orders", {"symbol": "BTC_USDT"}, lambda o: o != [])
    assert resting == {
        "id": placed["id"],
        "symbol": "BTC_USDT",
        "amount": "0.01",
        "price": price,
        "deal_amount": "0",
        "avg_price": "0",
        "type": "buy",
        "status": "pending",
    }
    assert await agent.data("cancel", {"id": placed["id"]}, exchange="Binance") is True
    await eventually(agent, "orders", {"symbol": "BTC_USDT"}, [])
    found = await agent.data("order", {"id": placed["id"]}, exchange="Binance")
    assert found["status"] == "canceled"
    error = await agent.error("cancel", {"id": placed["id"]}, exchange="Binance")
    assert error.startswith("Binance cancel refused: -2011 ")

    # USDⓈ-M: a market buy opens a long, closebuy (reduce-only sell) flattens it.
    opened = await agent.data(
        "trade",
        {"symbol": "ETH_USDT.swap", "type": "buy", "price": "-1", "amount": "3"},
        exchange="Binance",
    )
    assert opened["id"].startswith("ETHUSDT.P,")
    filled = await wait_for(agent, "order", {"id": opened["id"]}, lambda o: o["status"] == "filled")
    assert filled["deal_amount"] == "3"
    [long] = await wait_for(agent, "positions", {"symbol": "ETH_USDT.swap"}, lambda p: p != [])
    assert (long["amount"], long["type"]) == ("3", 0)
    # The fake prints the entry price with its own rounding.
    assert abs(Decimal(long["price"]) - Decimal(filled["avg_price"])) < Decimal("0.001")
    closed = await agent.data(
        "trade",
        {"symbol": "ETH_USDT.swap", "type": "closebuy", "price": "-1", "amount": "3"},
        exchange="Binance",
    )
    await wait_for(agent, "order", {"id": closed["id"]}, lambda o: o["status"] == "filled")
    await eventually(agent, "positions", {"symbol": "USDT.swap"}, [])
    error = await agent.error(
        "trade",
        {"symbol": "ETH_USDT.swap", "type": "closebuy", "price": "-1", "amount": "1"},
        exchange="Binance",
    )
    assert error.startswith("Binance order refused: -")
    history = await agent.data(
        "historyorders", {"symbol": "ETH_USDT.swap", "since": 0, "limit": 0}, exchange="Binance"
    )
    assert [(o["id"], o["type"], o["status"]) for o in history] == [
        (opened["id"], "buy", "filled"),
        (closed["id"], "sell", "filled"),
    ]
    [canceled] = await agent.data("GetHistoryOrders", {"symbol": "BTC_USDT"}, exchange="Binance")
    assert (canceled["id"], canceled["status"]) == (placed["id"], "canceled")
    assert "needs a symbol" in await agent.error("historyorders", exchange="Binance")


async def test_no_secret_in_binance_replies_or_logs(
    binance: tuple[Agent, FakeExchange], captured_logs: pytest.LogCaptureFixture
) -> None:
    agent, fake = binance
    fake.set_balance("USDT", "1", venue="binance-spot")
    wrong = Agent(agent.url, agent.session, secret_key=SECRET + "-wrong")
    await asyncio.gather(
        agent.call("accounts", exchange="Binance"),
        agent.call("positions", exchange="Binance"),
        agent.call("__api_/api/v3/account", headers={"Http-Method": "GET"}, exchange="Binance"),
        wrong.call("accounts", exchange="Binance"),
        wrong.call("orders", exchange="BinanceFutures"),
        wrong.call("__api_/api/v3/account", headers={"Http-Method": "GET"}, exchange="Binance"),
    )
    assert any('"error"' in r for r in wrong.replies)
    texts = [*agent.replies, *wrong.replies, captured_logs.text]
    texts += [r.exc_text or "" for r in captured_logs.records]
    for text in texts:
        assert SECRET not in text
        assert "c0ffee5e11" not in text


async def test_hedge_mode_uses_the_position_side(binance: tuple[Agent, FakeExchange]) -> None:
    agent, fake = binance
    fake.set_balance("USDT", "100000", venue="binance-usdsm")
    reply = await agent.data(
        "__api_/fapi/v1/positionSide/dual",
        {"dualSidePosition": "true"},
        headers={"Http-Method": "POST"},
        exchange="Binance",
    )
    assert reply["code"] == 200
    for side in ("buy", "sell"):
        placed = await agent.data(
            "trade",
            {"symbol": "BTC_USDT.swap", "type": side, "price": "-1", "amount": "0.5"},
            exchange="Binance",
        )
        await wait_for(agent, "order", {"id": placed["id"]}, lambda o: o["status"] == "filled")
    both = await wait_for(agent, "positions", {}, lambda rows: len(rows) == 2)
    assert sorted((p["type"], p["amount"]) for p in both) == [(0, "0.5"), (1, "0.5")]
    closed = await agent.data(
        "trade",
        {"symbol": "BTC_USDT.swap", "type": "closesell", "price": "-1", "amount": "0.5"},
        exchange="Binance",
    )
    await wait_for(agent, "order", {"id": closed["id"]}, lambda o: o["status"] == "filled")
    [long] = await wait_for(agent, "positions", {}, lambda rows: len(rows) == 1)
    assert (long["type"], long["amount"]) == (0, "0.5")


async def test_user_data_is_reloaded_after_the_stream_reconnects(
    binance: tuple[Agent, FakeExchange],
) -> None:
    agent, fake = binance
    gone = fake.place_order("BTCUSDT", "BUY", "0.1", "50000", venue="binance-spot")
    assert len(await agent.data("orders", {"symbol": "BTC_USDT"}, exchange="Binance")) == 1
    fake.drop_connections(venue="binance-spot")
    fake.cancel_order(gone.order_id, venue="binance-spot")  # nobody hears the push
    fake.set_balance("USDT", "42", venue="binance-spot")
    await eventually(agent, "orders", {"symbol": "BTC_USDT"}, [])
    accounts = await agent.data("accounts", exchange="Binance")
    assert {a["currency"]: a["free"] for a in accounts}["USDT"] == "42"
