"""The Bitget adapter against the fake Bitget (v2 spot and USDT futures): depth from the
verified books, private state from the v2 private stream, order entry through the fake's
matching engine (orders, order, cancel, fills, positions that follow fills, history,
refusals), and the switch to hedge-mode orders when Bitget asks for tradeSide."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from _fmztools import ACCESS_KEY, PASSPHRASE, SECRET, SECRETS, Agent

from datastores.apps.fmz.adapter import decimal_text
from datastores.apps.fmz.server import FMZBridge
from datastores.testing import FakeExchange

SPOT, FUT = "SPOT:BTCUSDT", "USDT-FUTURES:BTCUSDT"


@pytest.fixture
async def bitget() -> AsyncIterator[tuple[Agent, FakeExchange]]:
    async with (
        FakeExchange(
            "bitget",
            seed=6,
            rate=0,
            levels=200,
            symbols=[SPOT, FUT],
            api_key=ACCESS_KEY,
            api_secret=SECRET,
            api_passphrase=PASSPHRASE,
        ) as fake,  # fmt: skip
        FMZBridge(port=0, client_kwargs={"redirects": fake.redirects}) as bridge,
        aiohttp.ClientSession() as session,
    ):
        fake.set_balance("USDT", "100000")
        fake.set_balance("BTC", "1")
        fake.set_balance("USDT-FUTURES:USDT", "100000")
        yield Agent(bridge.url, session, secret_key=f"{SECRET},{PASSPHRASE}"), fake


async def wait_for(
    agent: Agent, method: str, params: dict[str, Any], check: Any, exchange: str = "Bitget"
) -> Any:
    found = None
    for _ in range(500):
        found = await agent.data(method, params, exchange=exchange)
        if check(found):
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"{method} never matched: {found}")


async def test_depth_trades_and_unsupported(bitget: tuple[Agent, FakeExchange]) -> None:
    agent, fake = bitget
    for symbol, book in (("BTC_USDT", SPOT), ("BTC_USDT.swap", FUT)):
        depth = await agent.data("depth", {"symbol": symbol, "limit": 10}, exchange="Bitget")
        bids, asks = fake.book(book).top(10)
        assert [tuple(a) for a in depth["asks"]] == asks
        assert [tuple(b) for b in depth["bids"]] == bids
    fake.tick(20, SPOT)
    trades = await wait_for(agent, "trades", {"symbol": "BTC_USDT"}, lambda t: t != [])
    assert all(set(t) == {"id", "time", "price", "amount", "type"} for t in trades)
    assert await agent.error("records", {"symbol": "BTC_USDT"}, exchange="Bitget") == (
        "not support: records"
    )
    error = await agent.error("depth", {"symbol": "BTC_USD.swap"}, exchange="Bitget")
    assert "only spot and USDT-margined .swap" in error


async def test_spot_orders_cancel_fills_and_accounts(bitget: tuple[Agent, FakeExchange]) -> None:
    agent, fake = bitget
    accounts = await agent.data("accounts", exchange="Bitget")
    assert {r["currency"]: r["free"] for r in accounts} == {"USDT": "100000", "BTC": "1"}
    futures = await agent.data("accounts", exchange="BitgetFutures")
    assert futures == [{"currency": "USDT", "free": "100000", "frozen": "0"}]
    price = Decimal(fake.book(SPOT).top(1)[0][0][0]) - 100
    placed = await agent.data(
        "trade",
        {"symbol": "BTC_USDT", "type": "buy", "price": str(price), "amount": "0.01"},
        exchange="Bitget",
    )
    expected = {
        "id": placed["id"], "symbol": "BTC_USDT", "amount": "0.01",
        "price": decimal_text(price), "deal_amount": "0", "avg_price": "0", "type": "buy",
        "status": "pending",
    }  # fmt: skip
    assert placed["id"].startswith("BTCUSDT,")
    assert await wait_for(agent, "orders", {"symbol": "BTC_USDT"}, lambda o: o != []) == [expected]
    assert await agent.data("order", {"id": placed["id"]}, exchange="Bitget") == expected
    assert await agent.data("cancel", {"id": placed["id"]}, exchange="Bitget") is True
    await wait_for(agent, "orders", {"symbol": "BTC_USDT"}, lambda o: o == [])
    cancelled = await agent.data("order", {"id": placed["id"]}, exchange="Bitget")
    assert cancelled == {**expected, "status": "canceled"}
    error = await agent.error("cancel", {"id": placed["id"]}, exchange="Bitget")
    assert error.startswith("Bitget cancel refused: 43001 ")

    # A market buy of 0.2 BTC: sent as what 0.2 BTC costs at the asks, so it buys 0.2.
    bought = await agent.data(
        "trade", {"symbol": "BTC_USDT", "type": "buy", "price": "-1", "amount": "0.2"},
        exchange="Bitget",
    )  # fmt: skip
    done = await wait_for(agent, "order", {"id": bought["id"]}, lambda o: o["status"] == "filled")
    assert Decimal(done["deal_amount"]) == Decimal("0.2")
    await wait_for(
        agent, "accounts", {},
        lambda rows: {r["currency"]: r["free"] for r in rows}.get("BTC") == "1.2",
    )  # fmt: skip
    history = await agent.data("historyorders", {"symbol": "BTC_USDT"}, exchange="Bitget")
    assert [(o["id"], o["status"]) for o in history] == [
        (placed["id"], "canceled"),
        (bought["id"], "filled"),
    ]
    error = await agent.error(
        "trade", {"symbol": "BTC_USDT", "type": "sell", "price": "99000", "amount": "100"},
        exchange="Bitget",
    )  # fmt: skip
    assert error.startswith("Bitget order refused: 43012 ")


async def test_positions_follow_fills_in_both_position_modes(
    bitget: tuple[Agent, FakeExchange],
) -> None:
    agent, fake = bitget
    swap = "BTC_USDT.swap"
    assert await agent.data("positions", exchange="Bitget") == []
    opened = await agent.data(
        "trade", {"symbol": swap, "type": "buy", "price": "-1", "amount": "0.5"}, exchange="Bitget"
    )
    assert opened["id"].startswith("BTCUSDT.P,")
    filled = await wait_for(agent, "order", {"id": opened["id"]}, lambda o: o["status"] == "filled")
    [long] = await wait_for(agent, "positions", {"symbol": swap}, lambda p: p != [])
    assert (long["symbol"], long["amount"], long["type"]) == (swap, "0.5", 0)
    assert Decimal(long["price"]) == Decimal(filled["avg_price"])
    error = await agent.error(
        "trade", {"symbol": swap, "type": "closesell", "price": "-1", "amount": "0.1"},
        exchange="Bitget",
    )  # fmt: skip
    assert "22002" in error
    closed = await agent.data(
        "trade", {"symbol": swap, "type": "closebuy", "price": "-1", "amount": "0.5"},
        exchange="Bitget",
    )  # fmt: skip
    await wait_for(agent, "positions", {"symbol": "USDT.swap"}, lambda p: p == [])
    history = await agent.data("historyorders", {"symbol": swap}, exchange="Bitget")
    assert [(o["id"], o["type"]) for o in history] == [
        (opened["id"], "buy"),
        (closed["id"], "sell"),
    ]

    # Hedge mode: the adapter learns it from Bitget's refusal and names the position.
    fake.venues["bitget"].matching.hedge_mode = True
    short = await agent.data(
        "trade", {"symbol": swap, "type": "sell", "price": "-1", "amount": "0.3"}, exchange="Bitget"
    )
    await wait_for(agent, "order", {"id": short["id"]}, lambda o: o["status"] == "filled")
    [position] = await wait_for(agent, "positions", {"symbol": swap}, lambda p: p != [])
    assert (position["amount"], position["type"]) == ("0.3", 1)
    cover = await agent.data(
        "trade", {"symbol": swap, "type": "closesell", "price": "-1", "amount": "0.3"},
        exchange="Bitget",
    )  # fmt: skip
    covered = await wait_for(agent, "order", {"id": cover["id"]}, lambda o: o["status"] == "filled")
    assert covered["type"] == "buy"  # closing a short buys
    await wait_for(agent, "positions", {}, lambda p: p == [])
    assert not any(secret in reply for reply in agent.replies for secret in SECRETS)


async def test_private_state_is_reloaded_after_the_stream_reconnects(
    bitget: tuple[Agent, FakeExchange],
) -> None:
    agent, fake = bitget
    gone = fake.place_order(SPOT, "BUY", "0.1", "50000")
    orders = await wait_for(agent, "orders", {"symbol": "BTC_USDT"}, lambda o: o != [])
    assert [o["id"] for o in orders] == [f"BTCUSDT,{gone.order_id}"]
    fake.drop_connections()
    fake.cancel_order(gone.order_id)  # nobody hears the push
    fake.set_balance("USDT", "42")
    await wait_for(agent, "orders", {"symbol": "BTC_USDT"}, lambda o: o == [])
    # The account comes again with the subscription after the reconnect.
    await wait_for(
        agent, "accounts", {},
        lambda rows: {r["currency"]: r["free"] for r in rows}.get("USDT") == "42",
    )  # fmt: skip
