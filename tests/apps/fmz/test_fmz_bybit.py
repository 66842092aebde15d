"""The Bybit adapter against the fake Bybit V5 (spot and linear): depth from the verified
books, private state from the /v5/private stream, order entry through the fake's matching
engine (orders, order, cancel, fills, positions that follow fills, history, refusals), and
the switch to hedge-mode position indexes when Bybit refuses one-way ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from _fmztools import ACCESS_KEY, SECRETS, Agent

from datastores.apps.fmz.adapter import decimal_text
from datastores.apps.fmz.server import FMZBridge
from datastores.testing import FakeExchange

SECRET = SECRETS[0]
BTC = "BTCUSDT"


@pytest.fixture
async def bybit() -> AsyncIterator[tuple[Agent, FakeExchange]]:
    async with (
        FakeExchange(
            "bybit", seed=4, rate=0, levels=200, api_key=ACCESS_KEY, api_secret=SECRET
        ) as fake,
        FMZBridge(port=0, client_kwargs={"redirects": fake.redirects}) as bridge,
        aiohttp.ClientSession() as session,
    ):
        fake.set_balance("USDT", "100000", venue="bybit-linear")
        fake.set_balance("USDT", "100000", venue="bybit-spot")
        fake.set_balance("BTC", "1", venue="bybit-spot")
        yield Agent(bridge.url, session, secret_key=SECRET), fake


async def wait_for(agent: Agent, method: str, params: dict[str, Any], check: Any) -> Any:
    found = None
    for _ in range(500):
        found = await agent.data(method, params, exchange="Bybit")
        if check(found):
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"{method} never matched: {found}")


async def test_depth_trades_and_unsupported(bybit: tuple[Agent, FakeExchange]) -> None:
    agent, fake = bybit
    for symbol, venue in (("BTC_USDT", "bybit-spot"), ("BTC_USDT.swap", "bybit-linear")):
        depth = await agent.data("depth", {"symbol": symbol, "limit": 10}, exchange="Bybit")
        bids, asks = fake.book(BTC, venue=venue).top(10)
        assert [tuple(a) for a in depth["asks"]] == asks
        assert [tuple(b) for b in depth["bids"]] == bids
    fake.tick(20, BTC, venue="bybit-spot")
    trades = await wait_for(agent, "trades", {"symbol": "BTC_USDT"}, lambda t: t != [])
    assert all(set(t) == {"id", "time", "price", "amount", "type"} for t in trades)
    assert await agent.error("records", {"symbol": "BTC_USDT"}, exchange="Bybit") == (
        "not support: records"
    )
    error = await agent.error("depth", {"symbol": "BTC_USD.quarter"}, exchange="Bybit")
    assert "only spot and USDT/USDC-margined .swap" in error


async def test_spot_orders_cancel_fills_and_accounts(bybit: tuple[Agent, FakeExchange]) -> None:
    agent, fake = bybit
    accounts = await agent.data("accounts", exchange="Bybit")
    assert {r["currency"]: r["free"] for r in accounts} == {"USDT": "100000", "BTC": "1"}
    price = Decimal(fake.book(BTC, venue="bybit-spot").top(1)[0][0][0]) - 100
    placed = await agent.data(
        "trade",
        {"symbol": "BTC_USDT", "type": "buy", "price": str(price), "amount": "0.01"},
        exchange="Bybit",
    )
    instrument, _, order_id = placed["id"].partition(",")
    assert (instrument, len(order_id)) == (BTC, 36)  # Bybit order ids are UUIDs
    expected = {
        "id": placed["id"], "symbol": "BTC_USDT", "amount": "0.01",
        "price": decimal_text(price), "deal_amount": "0", "avg_price": "0", "type": "buy",
        "status": "pending",
    }  # fmt: skip
    assert await wait_for(agent, "orders", {"symbol": "BTC_USDT"}, lambda o: o != []) == [expected]
    assert await agent.data("order", {"id": placed["id"]}, exchange="Bybit") == expected
    assert await agent.data("cancel", {"id": placed["id"]}, exchange="Bybit") is True
    await wait_for(agent, "orders", {"symbol": "BTC_USDT"}, lambda o: o == [])
    cancelled = await agent.data("order", {"id": placed["id"]}, exchange="Bybit")
    assert cancelled == {**expected, "status": "canceled"}
    error = await agent.error("cancel", {"id": placed["id"]}, exchange="Bybit")
    assert error.startswith("Bybit cancel refused: 170213 ")

    bought = await agent.data(
        "trade", {"symbol": "BTC_USDT", "type": "buy", "price": "-1", "amount": "0.2"},
        exchange="Bybit",
    )  # fmt: skip
    done = await wait_for(agent, "order", {"id": bought["id"]}, lambda o: o["status"] == "filled")
    assert done["deal_amount"] == "0.2"  # base units (marketUnit=baseCoin)
    await wait_for(
        agent, "accounts", {},
        lambda rows: {r["currency"]: r["free"] for r in rows}.get("BTC") == "1.2",
    )  # fmt: skip
    history = await agent.data("historyorders", {"symbol": "BTC_USDT"}, exchange="Bybit")
    assert [(o["id"], o["status"]) for o in history] == [
        (placed["id"], "canceled"),
        (bought["id"], "filled"),
    ]
    error = await agent.error(
        "trade", {"symbol": "BTC_USDT", "type": "buy", "price": str(price), "amount": "100"},
        exchange="Bybit",
    )  # fmt: skip
    assert error.startswith("Bybit order refused: 170131 ")


async def test_positions_follow_fills_in_both_position_modes(
    bybit: tuple[Agent, FakeExchange],
) -> None:
    agent, fake = bybit
    assert await agent.data("positions", exchange="Bybit") == []
    swap = "BTC_USDT.swap"
    opened = await agent.data(
        "trade", {"symbol": swap, "type": "buy", "price": "-1", "amount": "0.5"}, exchange="Bybit"
    )
    assert opened["id"].startswith("BTCUSDT.P,")
    filled = await wait_for(agent, "order", {"id": opened["id"]}, lambda o: o["status"] == "filled")
    [long] = await wait_for(agent, "positions", {"symbol": swap}, lambda p: p != [])
    assert (long["symbol"], long["amount"], long["type"]) == (swap, "0.5", 0)
    assert Decimal(long["price"]) == Decimal(filled["avg_price"])
    error = await agent.error(
        "trade", {"symbol": swap, "type": "closesell", "price": "-1", "amount": "0.1"},
        exchange="Bybit",
    )  # fmt: skip
    assert "110017" in error
    await agent.data(
        "trade", {"symbol": swap, "type": "closebuy", "price": "-1", "amount": "0.5"},
        exchange="Bybit",
    )  # fmt: skip
    await wait_for(agent, "positions", {"symbol": "USDT.swap"}, lambda p: p == [])

    # The account switches to hedge mode: the adapter learns it from Bybit's refusal.
    fake.venues["bybit-linear"].matching.hedge_mode = True
    short = await agent.data(
        "trade", {"symbol": swap, "type": "sell", "price": "-1", "amount": "0.3"}, exchange="Bybit"
    )
    await wait_for(agent, "order", {"id": short["id"]}, lambda o: o["status"] == "filled")
    [position] = await wait_for(agent, "positions", {"symbol": swap}, lambda p: p != [])
    assert (position["amount"], position["type"]) == ("0.3", 1)
    await agent.data(
        "trade", {"symbol": swap, "type": "closesell", "price": "-1", "amount": "0.3"},
        exchange="Bybit",
    )  # fmt: skip
    await wait_for(agent, "positions", {}, lambda p: p == [])
    assert not any(secret in reply for reply in agent.replies for secret in SECRETS)


async def test_private_state_is_reloaded_after_the_stream_reconnects(
    bybit: tuple[Agent, FakeExchange],
) -> None:
    agent, fake = bybit
    gone = fake.place_order(BTC, "BUY", "0.1", "50000", venue="bybit-spot")
    orders = await wait_for(agent, "orders", {"symbol": "BTC_USDT"}, lambda o: o != [])
    assert [o["id"].partition(",")[0] for o in orders] == [BTC]
    fake.drop_connections()
    fake.cancel_order(gone.order_id, venue="bybit-spot")  # nobody hears the push
    fake.set_balance("USDT", "42", venue="bybit-spot")
    await wait_for(agent, "orders", {"symbol": "BTC_USDT"}, lambda o: o == [])
    accounts = await agent.data("accounts", exchange="Bybit")
    assert {a["currency"]: a["free"] for a in accounts}["USDT"] == "42"
