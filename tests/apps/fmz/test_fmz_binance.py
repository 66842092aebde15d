"""The Binance adapter against the fake Binance (spot and USDⓈ-M): market data, private
state, orders through the fake's matching engine, reconnects, and the REST-served methods
(against replies in Binance's documented shapes, which the fake does not serve)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from _fmztools import ACCESS_KEY, SECRET, Agent, CannedHost, poll

from datastores.apps.fmz._common import number_text
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


async def test_unknown_methods_and_unmapped_symbols_say_so(
    binance: tuple[Agent, FakeExchange],
) -> None:
    agent, _ = binance
    for method in ("GetEverything", "SetDirection"):
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


wait_for = functools.partial(poll, exchange="Binance")


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


SPOT_FILTERS = [
    {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
    {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
    {"filterType": "NOTIONAL", "minNotional": "5.00000000", "maxNotional": "9000000.00000000"},
]
FUTURES_FILTERS = [
    {"filterType": "PRICE_FILTER", "minPrice": "556.80", "maxPrice": "4529764", "tickSize": "0.10"},
    {"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001", "maxQty": "1000"},
    {"filterType": "MIN_NOTIONAL", "notional": "100"},
]


async def test_rest_served_methods(binance: tuple[Agent, FakeExchange]) -> None:
    agent, fake = binance
    kline = [
        1499040000000,
        "0.0163479",
        "0.8",
        "0.015758",
        "0.015771",
        "148976.11427815",
        1499644799999,
        "2434.19055334",
        308,
        "1756.87402397",
        "28.46694368",
        "0",
    ]
    spot_day = {
        "symbol": "BTCUSDT",
        "lastPrice": "65000.5",
        "bidPrice": "64999",
        "askPrice": "65001",
        "openPrice": "64000",
        "highPrice": "66000",
        "lowPrice": "63000",
        "volume": "8913.3",
        "closeTime": 1499869899040,
    }
    futures_day = {
        "symbol": "BTCUSDT",
        "lastPrice": "65010",
        "openPrice": "64100",
        "highPrice": "66100",
        "lowPrice": "63100",
        "volume": "1234.567",
        "closeTime": 1499869899041,
    }
    spot = {
        "/api/v3/trades": [
            {
                "id": 28457,
                "price": "4.00000100",
                "qty": "12.00000000",
                "quoteQty": "48.000012",
                "time": 1499865549590,
                "isBuyerMaker": True,
                "isBestMatch": True,
            }
        ],
        "/api/v3/klines": [kline],
        "/api/v3/ticker/24hr": lambda q: spot_day if "symbol" in q else [spot_day],
        "/api/v3/exchangeInfo": {
            "symbols": [
                {"symbol": "BTCUSDT", "status": "TRADING", "filters": SPOT_FILTERS},
                {"symbol": "XYZABC", "status": "TRADING", "filters": SPOT_FILTERS},
            ]
        },
    }
    futures = {
        "/fapi/v1/aggTrades": [
            {
                "a": 26129,
                "p": "0.01633102",
                "q": "4.70443515",
                "f": 27781,
                "l": 27781,
                "T": 1498793709153,
                "m": False,
            }
        ],
        "/fapi/v1/ticker/24hr": lambda q: futures_day if "symbol" in q else [futures_day],
        "/fapi/v1/ticker/bookTicker": [
            {
                "symbol": "BTCUSDT",
                "bidPrice": "65009",
                "bidQty": "1",
                "askPrice": "65011",
                "askQty": "2",
                "time": 1589437530011,
            }
        ],
        "/fapi/v1/exchangeInfo": {
            "symbols": [
                {
                    "symbol": "BTCUSDT",
                    "status": "TRADING",
                    "contractType": "PERPETUAL",
                    "filters": FUTURES_FILTERS,
                },
                {
                    "symbol": "BTCUSDT_240628",
                    "status": "TRADING",
                    "contractType": "CURRENT_QUARTER",
                    "filters": FUTURES_FILTERS,
                },
            ]
        },
        "/fapi/v1/premiumIndex": {
            "symbol": "BTCUSDT",
            "markPrice": "11793.63104562",
            "lastFundingRate": "0.00038246",
            "nextFundingTime": 1597392000000,
            "time": 1597370495002,
        },
        "/fapi/v1/fundingInfo": [{"symbol": "BTCUSDT", "fundingIntervalHours": 4}],
        "/fapi/v1/leverage": {"leverage": 21, "maxNotionalValue": "1000000", "symbol": "BTCUSDT"},
    }
    async with (
        CannedHost(fake, "binance-spot", spot) as spot_host,
        CannedHost(fake, "binance-usdsm", futures) as futures_host,
    ):
        redirects = {
            **fake.redirects,
            "api.binance.com": spot_host.url,
            "fapi.binance.com": futures_host.url,
        }
        async with FMZBridge(port=0, client_kwargs={"redirects": redirects}) as bridge:
            trader = Agent(bridge.url, agent.session, secret_key=SECRET)

            async def data(method: str, params: dict[str, Any] | None = None) -> Any:
                return await trader.data(method, params, exchange="Binance")

            spot_trades = await data("trades", {"symbol": "BTC_USDT"})
            assert spot_trades[0] == {"id": "28457", "time": 1499865549590, "price": "4.000001",
                                      "amount": "12", "type": "sell"}  # fmt: skip
            swap_trades = await data("trades", {"symbol": "BTC_USDT.swap"})
            assert swap_trades[0] == {"id": "26129", "time": 1498793709153,
                                      "price": "0.01633102", "amount": "4.70443515",
                                      "type": "buy"}  # fmt: skip
            assert ("GET", "/fapi/v1/aggTrades", {"symbol": "BTCUSDT", "limit": "100"}) in (
                futures_host.seen
            )
            records = await data("records", {"symbol": "BTC_USDT", "period": "1440", "limit": 5})
            assert records == [
                [1499040000, "0.0163479", "0.8", "0.015758", "0.015771", "148976.11427815"]
            ]
            assert spot_host.seen[-1] == (
                "GET",
                "/api/v3/klines",
                {"symbol": "BTCUSDT", "interval": "1d", "limit": "5"},
            )
            # The ticker: best bid/ask from the live verified book, the day from REST.
            ticker = await data("ticker", {"symbol": "BTC_USDT"})
            top_bids, top_asks = fake.book("BTCUSDT", venue="binance-spot").top(1)
            assert ticker == {
                "symbol": "BTC_USDT",
                "buy": number_text(top_bids[0][0]),
                "sell": number_text(top_asks[0][0]),
                "high": "66000",
                "low": "63000",
                "open": "64000",
                "last": "65000.5",
                "vol": "8913.3",
                "time": "1499869899040",
            }
            rows = await data("GetTickers")
            assert [(r["symbol"], r["buy"], r["sell"]) for r in rows] == [
                ("BTC_USDT", "64999", "65001"),
                ("BTC_USDT.swap", "65009", "65011"),
            ]
            markets = await data("markets")
            assert sorted(markets) == ["BTC_USDT", "BTC_USDT.swap"]
            assert markets["BTC_USDT"] == {
                "symbol": "BTCUSDT",
                "base_asset": "BTC",
                "quote_asset": "USDT",
                "tick_size": "0.01",
                "amount_size": "0.00001",
                "price_precision": 2,
                "amount_precision": 5,
                "min_qty": "0.00001",
                "max_qty": "9000",
                "min_notional": "5",
                "max_notional": "9000000",
                "ct_val": "0",
                "ct_val_ccy": "",
            }
            assert markets["BTC_USDT.swap"]["min_notional"] == "100"
            assert markets["BTC_USDT.swap"]["price_precision"] == 1
            assert await data("fundings", {"symbol": "BTC_USDT.swap"}) == [
                {
                    "symbol": "BTC_USDT.swap",
                    "interval": 14400000,
                    "time": 1597392000000,
                    "rate": "0.00038246",
                }
            ]
            assert await data("SetMarginLevel", {"symbol": "BTC_USDT.swap", "marginLevel": "21"})
            verb, path, sent = futures_host.seen[-1]
            assert (verb, path) == ("POST", "/fapi/v1/leverage")
            assert sent.pop("signature")  # signed, with a timestamp
            assert sent.pop("timestamp").isdigit()
            assert sent == {"symbol": "BTCUSDT", "leverage": "21"}
            assert "whole number" in await trader.error(
                "marginlevel", {"symbol": "BTC_USDT.swap", "marginLevel": "2.5"}, exchange="Binance"
            )
            assert "is not a Binance interval" in await trader.error(
                "records", {"symbol": "BTC_USDT", "period": "7"}, exchange="Binance"
            )
