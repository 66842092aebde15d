"""The Bybit adapter against the fake Bybit V5 (spot and linear): depth from the verified
books, private state from the /v5/private stream, order entry through the fake's matching
engine (orders, order, cancel, fills, positions that follow fills, history, refusals), and
the switch to hedge-mode position indexes when Bybit refuses one-way ones."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from _flows import Flow, spot_order_life, swap_positions
from _fmztools import ACCESS_KEY, SECRETS, Agent, CannedHost, poll

from datastores.apps.fmz._common import number_text
from datastores.apps.fmz.adapter import METHODS
from datastores.apps.fmz.bybit import BybitAdapter
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


wait_for = functools.partial(poll, exchange="Bybit")


async def test_depth_trades_and_unsupported(bybit: tuple[Agent, FakeExchange]) -> None:
    agent, fake = bybit
    for symbol, venue in (("BTC_USDT", "bybit-spot"), ("BTC_USDT.swap", "bybit-linear")):
        depth = await agent.data("depth", {"symbol": symbol, "limit": 10}, exchange="Bybit")
        bids, asks = fake.book(BTC, venue=venue).top(10)
        assert [tuple(a) for a in depth["asks"]] == asks
        assert [tuple(b) for b in depth["bids"]] == bids
    # Trades made before the first call come from the fake's recent-trade endpoint.
    fake.tick(20, "ETHUSDT", venue="bybit-spot")
    await fake.drain()
    trades = await agent.data("trades", {"symbol": "ETH_USDT"}, exchange="Bybit")
    assert trades
    assert all(set(t) == {"id", "time", "price", "amount", "type"} for t in trades)
    assert [t["time"] for t in trades] == sorted(t["time"] for t in trades)
    rows = await agent.data("tickers", exchange="Bybit")
    assert {r["symbol"] for r in rows} == {"BTC_USDT", "ETH_USDT", "BTC_USDT.swap", "ETH_USDT.swap"}
    ticker = await agent.data("ticker", {"symbol": "ETH_USDT"}, exchange="Bybit")
    assert ticker["last"] == trades[-1]["price"]
    assert BybitAdapter.supported_methods() == frozenset(METHODS)
    error = await agent.error("depth", {"symbol": "BTC_USD.quarter"}, exchange="Bybit")
    assert "only spot and USDT/USDC-margined .swap" in error


def _check_order_id(order_id: str) -> None:
    instrument, _, bare = order_id.partition(",")
    assert (instrument, len(bare)) == (BTC, 36)  # Bybit order ids are UUIDs


FLOW = Flow(
    exchange="Bybit",
    spot_book=lambda fake: fake.book(BTC, venue="bybit-spot"),
    swap_venue="bybit-linear",
    check_order_id=_check_order_id,
    cancel_refused="Bybit cancel refused: 170213 ",
    order_refused="Bybit order refused: 170131 ",
    oversize_order={"type": "buy", "price": "20000", "amount": "100"},
    close_refused="110017",
)


async def test_spot_orders_cancel_fills_and_accounts(bybit: tuple[Agent, FakeExchange]) -> None:
    agent, fake = bybit
    _, bought = await spot_order_life(agent, fake, FLOW)
    done = await agent.data("order", {"id": bought}, exchange="Bybit")
    assert done["deal_amount"] == "0.2"  # base units (marketUnit=baseCoin)


async def test_positions_follow_fills_in_both_position_modes(
    bybit: tuple[Agent, FakeExchange],
) -> None:
    agent, fake = bybit
    await swap_positions(agent, fake, FLOW)
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


def _envelope(result: Any) -> dict[str, Any]:
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": 1672376496682}


SPOT_TICKER = {
    "symbol": "BTCUSDT", "bid1Price": "20517.96", "bid1Size": "2", "ask1Price": "20527.77",
    "ask1Size": "1.862172", "lastPrice": "20533.13", "prevPrice24h": "20393.48",
    "price24hPcnt": "0.0068", "highPrice24h": "21128.12", "lowPrice24h": "20318.89",
    "turnover24h": "243765620.65899866", "volume24h": "11801.27771",
}  # fmt: skip
LINEAR_TICKER = {
    "symbol": "BTCUSDT", "lastPrice": "16597.00", "indexPrice": "16598.54",
    "markPrice": "16596.00", "prevPrice24h": "16464.50", "price24hPcnt": "0.008047",
    "highPrice24h": "30912.50", "lowPrice24h": "15700.00", "openInterest": "373504107",
    "turnover24h": "2352.94950046", "volume24h": "49337318", "fundingRate": "-0.001034",
    "nextFundingTime": "1672387200000", "bid1Price": "16596.00", "bid1Size": "1",
    "ask1Price": "16597.50", "ask1Size": "1",
}  # fmt: skip
SPOT_INSTRUMENT = {
    "symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "status": "Trading",
    "lotSizeFilter": {"basePrecision": "0.000001", "quotePrecision": "0.00000001",
                      "minOrderQty": "0.000048", "maxOrderQty": "71.73956243",
                      "minOrderAmt": "1", "maxOrderAmt": "2000000"},
    "priceFilter": {"tickSize": "0.01"},
}  # fmt: skip
LINEAR_INSTRUMENT = {
    "symbol": "BTCUSDT", "contractType": "LinearPerpetual", "status": "Trading",
    "baseCoin": "BTC", "quoteCoin": "USDT", "fundingInterval": 480,
    "priceFilter": {"minPrice": "0.10", "maxPrice": "199999.80", "tickSize": "0.10"},
    "lotSizeFilter": {"maxOrderQty": "100.000", "minOrderQty": "0.001", "qtyStep": "0.001",
                      "minNotionalValue": "5"},
}  # fmt: skip


async def test_rest_served_methods_and_the_live_ticker(bybit: tuple[Agent, FakeExchange]) -> None:
    agent, fake = bybit
    # Bybit lists klines newest first: [startTime, open, high, low, close, volume, turnover].
    klines = [
        ["1670608800000", "17071", "17073", "17027", "17055.5", "268611", "15.74462667"],
        ["1670605200000", "17000", "17080", "16990", "17071", "100", "1.5"],
    ]

    def by_category(spot: Any, linear: Any) -> Any:
        return lambda q: _envelope(spot(q) if q.get("category") == "spot" else linear(q))

    canned = {
        "/v5/market/kline": _envelope({"category": "spot", "symbol": BTC, "list": klines}),
        "/v5/market/tickers": by_category(
            lambda q: {"category": "spot", "list": [SPOT_TICKER, {**SPOT_TICKER, "symbol": "X"}]},
            lambda q: {"category": "linear", "list": [LINEAR_TICKER]},
        ),
        "/v5/market/instruments-info": by_category(
            lambda q: {"category": "spot", "list": [SPOT_INSTRUMENT], "nextPageCursor": ""},
            lambda q: {"category": "linear", "list": [LINEAR_INSTRUMENT], "nextPageCursor": ""},
        ),
        "/v5/market/recent-trade": _envelope(
            {
                "category": "spot",
                "list": [
                    {
                        "execId": "2100000000007764263",
                        "symbol": BTC,
                        "price": "16618.49",
                        "size": "0.00012",
                        "side": "Buy",
                        "time": "1672052955758",
                        "isBlockTrade": False,
                    },
                    {
                        "execId": "2100000000007764262",
                        "symbol": BTC,
                        "price": "16618.5",
                        "size": "0.1",
                        "side": "Sell",
                        "time": "1672052955757",
                        "isBlockTrade": False,
                    },
                ],
            }
        ),
        "/v5/position/set-leverage": lambda q: (
            _envelope({})
            if q["buyLeverage"] == "10"
            else {"retCode": 110043, "retMsg": "leverage not modified", "result": {}}
        ),
    }
    async with CannedHost(fake, "bybit-spot", canned) as host:
        redirects = {**fake.redirects, "api.bybit.com": host.url}
        async with FMZBridge(port=0, client_kwargs={"redirects": redirects}) as bridge:
            trader = Agent(bridge.url, agent.session, secret_key=SECRET)

            async def data(method: str, params: dict[str, Any] | None = None) -> Any:
                return await trader.data(method, params, exchange="Bybit")

            records = await data("records", {"symbol": "BTC_USDT", "period": "60", "limit": 2})
            assert records == [
                [1670605200, "17000", "17080", "16990", "17071", "100"],
                [1670608800, "17071", "17073", "17027", "17055.5", "268611"],
            ]
            assert host.seen[-1] == (
                "GET",
                "/v5/market/kline",
                {"category": "spot", "symbol": BTC, "interval": "60", "limit": "2"},
            )
            # trades starts from the REST recent trades, oldest first, then the stream.
            trades = await data("trades", {"symbol": "btc_usdt"})
            assert trades[:2] == [
                {"id": "2100000000007764262", "time": 1672052955757, "price": "16618.5",
                 "amount": "0.1", "type": "sell"},
                {"id": "2100000000007764263", "time": 1672052955758, "price": "16618.49",
                 "amount": "0.00012", "type": "buy"},
            ]  # fmt: skip
            fake.tick(30, BTC, venue="bybit-spot")
            streamed = await wait_for(
                trader, "trades", {"symbol": "BTC_USDT"}, lambda t: len(t) > 2
            )
            assert streamed[:2] == trades[:2]
            assert [t["time"] for t in streamed] == sorted(t["time"] for t in streamed)
            assert [p for _, p, _ in host.seen].count("/v5/market/recent-trade") == 1
            # The ticker: bid/ask from the verified book, the day from the live stream.
            ticker = await data("ticker", {"symbol": "BTC_USDT"})
            assert set(ticker) == {"symbol", "buy", "sell", "high", "low", "open", "last",
                                   "vol", "time"}  # fmt: skip
            live = fake.book(BTC, venue="bybit-spot").top(1)
            assert (ticker["symbol"], ticker["buy"], ticker["sell"]) == (
                "BTC_USDT",
                number_text(live[0][0][0]),
                number_text(live[1][0][0]),
            )
            assert Decimal(ticker["low"]) <= Decimal(ticker["last"]) <= Decimal(ticker["high"])
            swap = await data("ticker", {"symbol": "BTC_USDT.swap"})
            assert swap["symbol"] == "BTC_USDT.swap"
            assert Decimal(swap["last"]) > 0

            rows = await data("tickers")
            assert [(r["symbol"], r["buy"], r["sell"], r["open"]) for r in rows] == [
                ("BTC_USDT", "20517.96", "20527.77", "20393.48"),
                ("BTC_USDT.swap", "16596", "16597.5", "16464.5"),
            ]
            assert rows[0]["time"] == "1672376496682"
            markets = await data("markets")
            assert markets == {
                "BTC_USDT": {
                    "symbol": BTC, "base_asset": "BTC", "quote_asset": "USDT",
                    "tick_size": "0.01", "amount_size": "0.000001", "price_precision": 2,
                    "amount_precision": 6, "min_qty": "0.000048", "max_qty": "71.73956243",
                    "min_notional": "1", "max_notional": "2000000", "ct_val": "0",
                    "ct_val_ccy": "",
                },
                "BTC_USDT.swap": {
                    "symbol": BTC, "base_asset": "BTC", "quote_asset": "USDT",
                    "tick_size": "0.1", "amount_size": "0.001", "price_precision": 1,
                    "amount_precision": 3, "min_qty": "0.001", "max_qty": "100",
                    "min_notional": "5", "max_notional": "0", "ct_val": "1",
                    "ct_val_ccy": "BTC",
                },
            }  # fmt: skip
            assert await data("GetFundings", {"symbol": "BTC_USDT.swap"}) == [
                {"symbol": "BTC_USDT.swap", "interval": 28_800_000, "time": 1672387200000,
                 "rate": "-0.001034"}
            ]  # fmt: skip
            assert await data("SetMarginLevel", {"symbol": "BTC_USDT.swap", "marginLevel": 10})
            verb, path, sent = host.seen[-1]
            assert (verb, path) == ("POST", "/v5/position/set-leverage")
            assert sent == {"category": "linear", "symbol": BTC, "buyLeverage": "10",
                            "sellLeverage": "10"}  # fmt: skip
            assert await data("marginlevel", {"symbol": "BTC_USDT.swap", "marginLevel": "5"})
            assert "is not a Bybit interval" in await trader.error(
                "records", {"symbol": "BTC_USDT", "period": "7"}, exchange="Bybit"
            )
            assert "perpetual" in await trader.error(
                "fundings", {"symbol": "BTC_USDT"}, exchange="Bybit"
            )
    assert not any(secret in reply for reply in trader.replies for secret in SECRETS)
