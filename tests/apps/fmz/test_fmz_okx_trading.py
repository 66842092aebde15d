"""Order entry through the bridge against the fake OKX's own matching engine: trade,
orders/order, cancel, fills, positions that follow fills, history, the exchange's refusals.

The REST-only methods (records, markets, tickers, fundings, margin level) use endpoints the
fake does not serve: a small stand-in for www.okx.com answers them with replies in OKX's
documented shapes and forwards every other request, signature headers and all, to the fake.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from _fmztools import PASSPHRASE, SECRET, Agent, CannedHost, poll

from datastores.apps.fmz.adapter import decimal_text
from datastores.apps.fmz.server import FMZBridge
from datastores.testing import FakeExchange

BTC = "BTC-USDT"


@pytest.fixture
async def canned(okx_fake: FakeExchange) -> AsyncIterator[tuple[Agent, CannedHost]]:
    """www.okx.com: canned replies for the endpoints the fake lacks (each test fills
    ``canned``), the rest forwarded to the fake."""
    async with CannedHost(okx_fake, "okx", {}) as stand_in:
        redirects = {**okx_fake.redirects, "www.okx.com": stand_in.url}
        async with (
            FMZBridge(port=0, client_kwargs={"redirects": redirects}) as bridge,
            aiohttp.ClientSession() as session,
        ):
            yield Agent(bridge.url, session, secret_key=f"{SECRET},{PASSPHRASE}"), stand_in


async def eventually(agent: Agent, method: str, params: dict[str, Any], expected: Any) -> None:
    for _ in range(500):
        if await agent.data(method, params) == expected:
            return
        await asyncio.sleep(0.01)
    assert await agent.data(method, params) == expected


@pytest.fixture
async def okx_trader(okx_fake: FakeExchange, okx_agent: Agent) -> Agent:
    okx_fake.set_balance("USDT", "100000", venue="okx")
    okx_fake.set_balance("BTC", "1", venue="okx")
    return okx_agent


async def test_an_order_shows_in_orders_and_goes_after_cancel(
    okx_trader: Agent, okx_fake: FakeExchange
) -> None:
    agent = okx_trader
    best_bid = Decimal(okx_fake.book(BTC, venue="okx").top(1)[0][0][0])
    price = best_bid - Decimal("1000")
    placed = await agent.data(
        "trade", {"symbol": "BTC_USDT", "type": "buy", "price": str(price), "amount": "0.00100"}
    )
    assert set(placed) == {"id"}
    instrument, _, ord_id = placed["id"].partition(",")
    assert (instrument, ord_id.isdigit()) == ("BTC-USDT", True)
    expected = {
        "id": placed["id"],
        "symbol": "BTC_USDT",
        "amount": "0.001",
        "price": decimal_text(price),
        "deal_amount": "0",
        "avg_price": "0",
        "type": "buy",
        "status": "pending",
    }
    await eventually(agent, "orders", {"symbol": "BTC_USDT"}, [expected])
    assert await agent.data("order", {"id": placed["id"], "symbol": "BTC_USDT"}) == expected
    assert await agent.data("cancel", {"id": placed["id"], "symbol": "BTC_USDT"}) is True
    await eventually(agent, "orders", {"symbol": "BTC_USDT"}, [])
    await eventually(agent, "order", {"id": placed["id"]}, {**expected, "status": "canceled"})
    error = await agent.error("cancel", {"id": placed["id"]})
    assert error.startswith("OKX cancel refused: 1 ")
    assert "51400" in error
    # An order the bridge never saw is found with the exchange's order query.
    other = okx_fake.place_order(BTC, "SELL", "0.5", "99000", venue="okx")
    found = await agent.data("order", {"id": f"{BTC},{other.order_id}"})
    assert (found["amount"], found["type"], found["status"]) == ("0.5", "sell", "pending")
    error = await agent.error("order", {"id": f"{BTC},123"})
    assert "51603" in error


async def test_positions_follow_fills(okx_trader: Agent, okx_fake: FakeExchange) -> None:
    agent = okx_trader
    assert await agent.data("positions") == []
    opened = await agent.data(
        "trade", {"symbol": "BTC_USDT.swap", "type": "buy", "price": "-1", "amount": "2"}
    )
    filled = await poll(agent, "order", {"id": opened["id"]}, lambda o: o["status"] == "filled")
    assert filled["deal_amount"] == "2"
    assert Decimal(filled["avg_price"]) > 0
    [long] = await poll(agent, "positions", {"symbol": "BTC_USDT.swap"}, lambda p: p != [])
    assert (long["symbol"], long["amount"], long["type"]) == ("BTC_USDT.swap", "2", 0)
    assert Decimal(long["price"]) == Decimal(filled["avg_price"])
    # closebuy: a reduce-only sell; more than the position is refused by the exchange.
    error = await agent.error(
        "trade", {"symbol": "BTC_USDT.swap", "type": "closesell", "price": "-1", "amount": "1"}
    )
    assert "51169" in error
    closed = await agent.data(
        "trade", {"symbol": "BTC_USDT.swap", "type": "closebuy", "price": "-1", "amount": "2"}
    )
    await poll(agent, "order", {"id": closed["id"]}, lambda o: o["status"] == "filled")
    await eventually(agent, "positions", {"symbol": "USDT.swap"}, [])
    history = await agent.data("historyorders", {"symbol": "BTC_USDT.swap", "since": 0, "limit": 0})
    assert [(o["id"], o["type"], o["status"]) for o in history] == [
        (opened["id"], "buy", "filled"),
        (closed["id"], "sell", "filled"),
    ]


async def test_market_and_refused_orders(okx_trader: Agent, okx_fake: FakeExchange) -> None:
    agent = okx_trader
    sold = await agent.data(
        "trade", {"symbol": "BTC_USDT", "type": "sell", "price": -1, "amount": 0.25}
    )
    done = await poll(agent, "order", {"id": sold["id"]}, lambda o: o["status"] == "filled")
    assert done["deal_amount"] == "0.25"  # base units (tgtCcy=base_ccy), not quote
    accounts = await poll(
        agent,
        "accounts",
        {},
        lambda rows: {r["currency"]: r["free"] for r in rows}["BTC"] == "0.75",
    )
    assert {r["currency"] for r in accounts} >= {"BTC", "USDT"}
    error = await agent.error(
        "trade", {"symbol": "BTC_USDT", "type": "buy", "price": "60000", "amount": "1000"}
    )
    assert error.startswith("OKX order refused: 1 All operations failed (51008 ")
    error = await agent.error(
        "trade", {"symbol": "NOPE_USDT", "type": "buy", "price": "1", "amount": "1"}
    )
    assert "51001" in error


async def test_concurrent_orders(okx_trader: Agent, okx_fake: FakeExchange) -> None:
    agent = okx_trader
    best_bid = Decimal(okx_fake.book("ETH-USDT", venue="okx").top(1)[0][0][0])
    replies = await asyncio.gather(
        *(
            agent.data(
                "trade",
                {
                    "symbol": "ETH_USDT",
                    "type": "buy",
                    "price": str(best_bid - 50 - i),
                    "amount": "1",
                },
            )
            for i in range(8)
        )
    )
    ids = {r["id"] for r in replies}
    assert len(ids) == 8
    rows = await poll(agent, "orders", {"symbol": "ETH_USDT"}, lambda o: len(o) == 8)
    assert {o["id"] for o in rows} == ids
    assert all(await asyncio.gather(*(agent.data("cancel", {"id": i}) for i in ids)))
    await eventually(agent, "orders", {"symbol": "ETH_USDT"}, [])


async def test_rest_served_methods(canned: tuple[Agent, CannedHost]) -> None:
    """records, markets, tickers, fundings, marginlevel and historyorders come from OKX's
    REST endpoints (shapes from https://www.okx.com/docs-v5/en/), which the fake lacks."""
    agent, stand_in = canned
    ok = {"code": "0", "msg": ""}
    stand_in.canned["/api/v5/market/candles"] = {
        **ok,
        "data": [
            ["1597026420000", "3.721", "3.743", "3.677", "3.708", "8422410", "0", "0", "0"],
            ["1597026360000", "3.731", "3.799", "3.494", "3.72", "24912403", "0", "0", "1"],
        ],
    }
    records = await agent.data("records", {"symbol": "BTC_USDT", "period": "60", "limit": "2"})
    assert records == [
        [1597026360, "3.731", "3.799", "3.494", "3.72", "24912403"],
        [1597026420, "3.721", "3.743", "3.677", "3.708", "8422410"],
    ]
    assert stand_in.seen[-1] == (
        "GET",
        "/api/v5/market/candles",
        {"instId": "BTC-USDT", "bar": "1H", "limit": "2"},
    )
    assert "is not an OKX bar" in await agent.error(
        "records", {"symbol": "BTC_USDT", "period": "7"}
    )

    def instruments(query: dict[str, str]) -> dict[str, Any]:
        spot = {
            "instId": "BTC-USDT",
            "tickSz": "0.1",
            "lotSz": "0.00000001",
            "minSz": "0.00001",
            "maxLmtSz": "9999999999",
            "ctVal": "",
            "ctValCcy": "",
        }
        swap = {
            "instId": "BTC-USDT-SWAP",
            "tickSz": "0.1",
            "lotSz": "0.01",
            "minSz": "0.01",
            "maxLmtSz": "100000000",
            "ctVal": "0.01",
            "ctValCcy": "BTC",
        }
        odd = {**swap, "instId": "BTC-USD-250328"}
        return {**ok, "data": [spot] if query["instType"] == "SPOT" else [swap, odd]}

    stand_in.canned["/api/v5/public/instruments"] = instruments
    markets = await agent.data("GetMarkets")
    assert sorted(markets) == ["BTC_USDT", "BTC_USDT.swap"]
    assert markets["BTC_USDT.swap"] == {
        "symbol": "BTC-USDT-SWAP",
        "base_asset": "BTC",
        "quote_asset": "USDT",
        "tick_size": "0.1",
        "amount_size": "0.01",
        "price_precision": 1,
        "amount_precision": 2,
        "min_qty": "0.01",
        "max_qty": "100000000",
        "min_notional": "0",
        "max_notional": "0",
        "ct_val": "0.01",
        "ct_val_ccy": "BTC",
    }
    assert markets["BTC_USDT"]["amount_precision"] == 8

    def tickers(query: dict[str, str]) -> dict[str, Any]:
        inst = "ETH-USDT" if query["instType"] == "SPOT" else "ETH-USDT-SWAP"
        row = {
            "instId": inst,
            "last": "3000.5",
            "askPx": "3000.6",
            "bidPx": "3000.4",
            "open24h": "2900",
            "high24h": "3100",
            "low24h": "2800",
            "vol24h": "1234.5",
            "ts": "1597026383085",
        }
        return {**ok, "data": [row]}

    stand_in.canned["/api/v5/market/tickers"] = tickers
    rows = await agent.data("tickers")
    assert [r["symbol"] for r in rows] == ["ETH_USDT", "ETH_USDT.swap"]
    assert rows[0] == {
        "symbol": "ETH_USDT",
        "buy": "3000.4",
        "sell": "3000.6",
        "high": "3100",
        "low": "2800",
        "open": "2900",
        "last": "3000.5",
        "vol": "1234.5",
        "time": "1597026383085",
    }

    stand_in.canned["/api/v5/public/funding-rate"] = {
        **ok,
        "data": [
            {
                "instId": "BTC-USDT-SWAP",
                "fundingRate": "0.0001515",
                "fundingTime": "1703088000000",
                "nextFundingTime": "1703116800000",
            }
        ],
    }
    assert await agent.data("fundings", {"symbol": "BTC_USDT.swap"}) == [
        {
            "symbol": "BTC_USDT.swap",
            "interval": 28800000,
            "time": 1703088000000,
            "rate": "0.0001515",
        }
    ]
    assert "perpetual" in await agent.error("GetFundings", {"symbol": "BTC_USDT"})

    stand_in.canned["/api/v5/account/set-leverage"] = {
        **ok,
        "data": [{"lever": "5", "mgnMode": "cross", "instId": "BTC-USDT-SWAP"}],
    }
    assert await agent.data("SetMarginLevel", {"symbol": "BTC_USDT.swap", "marginLevel": 5}) is True
    assert stand_in.seen[-1] == (
        "POST",
        "/api/v5/account/set-leverage",
        {"instId": "BTC-USDT-SWAP", "lever": "5", "mgnMode": "cross"},
    )
    assert "per perpetual" in await agent.error("marginlevel", {"marginLevel": "3"})

    stand_in.canned["/api/v5/trade/orders-history"] = {
        **ok,
        "data": [
            {
                "instId": "BTC-USDT",
                "ordId": "2",
                "px": "61000",
                "sz": "0.2",
                "side": "sell",
                "state": "canceled",
                "accFillSz": "0",
                "avgPx": "",
                "cTime": "1700000002000",
            },
            {
                "instId": "BTC-USDT",
                "ordId": "1",
                "px": "60000",
                "sz": "0.1",
                "side": "buy",
                "state": "filled",
                "accFillSz": "0.1",
                "avgPx": "59990",
                "cTime": "1700000001000",
            },
        ],
    }
    history = await agent.data(
        "historyorders", {"symbol": "BTC_USDT", "since": 1700000000000, "limit": 0}
    )
    assert [(o["id"], o["status"], o["avg_price"]) for o in history] == [
        ("BTC-USDT,1", "filled", "59990"),
        ("BTC-USDT,2", "canceled", "0"),
    ]
    assert stand_in.seen[-1] == (
        "GET",
        "/api/v5/trade/orders-history",
        {"instType": "SPOT", "limit": "100", "instId": "BTC-USDT", "begin": "1700000000000"},
    )
    stand_in.canned["/api/v5/trade/orders-history"] = {
        "code": "50113",
        "msg": "Invalid Sign",
        "data": [],
    }
    assert await agent.error("historyorders", {"symbol": "BTC_USDT"}) == (
        "OKX orders-history refused: 50113 Invalid Sign"
    )


async def test_long_short_mode_uses_the_position_side(okx_trader: Agent) -> None:
    agent = okx_trader
    reply = await agent.data(
        "__api_/api/v5/account/set-position-mode",
        {"posMode": "long_short_mode"},
        headers={"Http-Method": "POST"},
    )
    assert reply["code"] == "0"
    for side in ("buy", "sell"):
        placed = await agent.data(
            "trade", {"symbol": "BTC_USDT.swap", "type": side, "price": "-1", "amount": "1"}
        )
        await poll(agent, "order", {"id": placed["id"]}, lambda o: o["status"] == "filled")
    both = await poll(agent, "positions", {}, lambda rows: len(rows) == 2)
    assert sorted((p["type"], p["amount"]) for p in both) == [(0, "1"), (1, "1")]
    closed = await agent.data(
        "trade", {"symbol": "BTC_USDT.swap", "type": "closebuy", "price": "-1", "amount": "1"}
    )
    await poll(agent, "order", {"id": closed["id"]}, lambda o: o["status"] == "filled")
    [short] = await poll(agent, "positions", {}, lambda rows: len(rows) == 1)
    assert (short["type"], short["amount"]) == (1, "1")


async def test_trades_start_from_the_rest_recent_trades(
    canned: tuple[Agent, CannedHost], okx_fake: FakeExchange
) -> None:
    agent, stand_in = canned
    stand_in.canned["/api/v5/market/trades"] = {
        "code": "0",
        "msg": "",
        "data": [
            {"instId": "BTC-USDT", "side": "sell", "sz": "0.00001", "px": "29963.2",
             "tradeId": "242720721", "ts": "1654161646975"},
            {"instId": "BTC-USDT", "side": "buy", "sz": "0.5", "px": "29963.1",
             "tradeId": "242720720", "ts": "1654161646974"},
        ],
    }  # fmt: skip
    seeded = [
        {"id": "242720720", "time": 1654161646974, "price": "29963.1", "amount": "0.5",
         "type": "buy"},
        {"id": "242720721", "time": 1654161646975, "price": "29963.2", "amount": "0.00001",
         "type": "sell"},
    ]  # fmt: skip
    assert await agent.data("trades", {"symbol": "BTC_USDT"}) == seeded
    assert stand_in.seen[-1] == (
        "GET",
        "/api/v5/market/trades",
        {"instId": "BTC-USDT", "limit": "100"},
    )
    okx_fake.tick(100, "BTC-USDT", venue="okx")
    trades = await poll(agent, "trades", {"symbol": "BTC_USDT"}, lambda t: len(t) > 2)
    assert trades[:2] == seeded
    assert [t["time"] for t in trades] == sorted(t["time"] for t in trades)
    assert len({t["id"] for t in trades}) == len(trades)
    assert [p for _, p, _ in stand_in.seen].count("/api/v5/market/trades") == 1
