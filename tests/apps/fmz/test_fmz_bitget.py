"""The Bitget adapter against the fake Bitget (v2 spot and USDT futures): depth from the
verified books, private state from the v2 private stream, order entry through the fake's
matching engine (orders, order, cancel, fills, positions that follow fills, history,
refusals), and the switch to hedge-mode orders when Bitget asks for tradeSide."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from _flows import Flow, spot_order_life, swap_positions
from _fmztools import ACCESS_KEY, PASSPHRASE, SECRET, SECRETS, Agent, CannedHost, poll

from datastores.apps.fmz._common import number_text
from datastores.apps.fmz.adapter import METHODS
from datastores.apps.fmz.bitget import BitgetAdapter
from datastores.apps.fmz.server import FMZBridge
from datastores.testing import FakeExchange

SPOT, FUT = "SPOT:BTCUSDT", "USDT-FUTURES:BTCUSDT"
FUT_ETH = "USDT-FUTURES:ETHUSDT"


@pytest.fixture
async def bitget() -> AsyncIterator[tuple[Agent, FakeExchange]]:
    async with (
        FakeExchange(
            "bitget",
            seed=6,
            rate=0,
            levels=200,
            symbols=[SPOT, FUT, FUT_ETH],
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


wait_for = functools.partial(poll, exchange="Bitget")


async def test_depth_trades_and_unsupported(bitget: tuple[Agent, FakeExchange]) -> None:
    agent, fake = bitget
    for symbol, book in (("BTC_USDT", SPOT), ("BTC_USDT.swap", FUT)):
        depth = await agent.data("depth", {"symbol": symbol, "limit": 10}, exchange="Bitget")
        bids, asks = fake.book(book).top(10)
        assert [tuple(a) for a in depth["asks"]] == asks
        assert [tuple(b) for b in depth["bids"]] == bids
    # Trades made before the first call come from the fake's market/fills endpoint.
    fake.tick(20, FUT_ETH)
    await fake.drain()
    trades = await agent.data("trades", {"symbol": "ETH_USDT.swap"}, exchange="Bitget")
    assert trades
    assert all(set(t) == {"id", "time", "price", "amount", "type"} for t in trades)
    assert [t["time"] for t in trades] == sorted(t["time"] for t in trades)
    rows = await agent.data("tickers", exchange="Bitget")
    assert {r["symbol"] for r in rows} == {"BTC_USDT", "BTC_USDT.swap", "ETH_USDT.swap"}
    ticker = await agent.data("ticker", {"symbol": "ETH_USDT.swap"}, exchange="Bitget")
    assert ticker["last"] == trades[-1]["price"]
    assert BitgetAdapter.supported_methods() == frozenset(METHODS)
    error = await agent.error("depth", {"symbol": "BTC_USD.swap"}, exchange="Bitget")
    assert "only spot and USDT-margined .swap" in error


def _check_order_id(order_id: str) -> None:
    assert order_id.startswith("BTCUSDT,")


FLOW = Flow(
    exchange="Bitget",
    spot_book=lambda fake: fake.book(SPOT),
    swap_venue="bitget",
    check_order_id=_check_order_id,
    cancel_refused="Bitget cancel refused: 43001 ",
    order_refused="Bitget order refused: 43012 ",
    oversize_order={"type": "sell", "price": "99000", "amount": "100"},
    close_refused="22002",
)


async def test_spot_orders_cancel_fills_and_accounts(bitget: tuple[Agent, FakeExchange]) -> None:
    agent, fake = bitget
    futures = await agent.data("accounts", exchange="BitgetFutures")
    assert futures == [{"currency": "USDT", "free": "100000", "frozen": "0"}]
    # The market buy of 0.2 BTC is sent as what 0.2 BTC costs at the asks.
    await spot_order_life(agent, fake, FLOW)


async def test_positions_follow_fills_in_both_position_modes(
    bitget: tuple[Agent, FakeExchange],
) -> None:
    agent, fake = bitget
    ids = await swap_positions(agent, fake, FLOW)
    history = await agent.data("historyorders", {"symbol": "BTC_USDT.swap"}, exchange="Bitget")
    assert [(o["id"], o["type"]) for o in history] == list(
        zip(ids, ["buy", "sell", "sell", "buy"], strict=True)
    )
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


def _envelope(data: Any) -> dict[str, Any]:
    return {"code": "00000", "msg": "success", "requestTime": 1695808949356, "data": data}


SPOT_TICKER = {
    "symbol": "BTCUSDT", "high24h": "37775.65", "open": "35134.2", "low24h": "34413.1",
    "lastPr": "34413.1", "quoteVolume": "0", "baseVolume": "0", "usdtVolume": "0",
    "ts": "1695808949356", "bidPr": "34413.1", "askPr": "34413.2", "bidSz": "0.1",
    "askSz": "0.2", "openUtc": "23856.72", "changeUtc24h": "0.00301", "change24h": "0.00069",
}  # fmt: skip
FUTURES_TICKER = {
    "symbol": "BTCUSDT", "lastPr": "27006.1", "askPr": "27006.2", "bidPr": "27006.0",
    "bidSz": "1", "askSz": "2", "high24h": "27212.3", "low24h": "26860.3",
    "ts": "1695808949357", "change24h": "0.00025", "baseVolume": "203917.05",
    "quoteVolume": "5540245390.0", "usdtVolume": "5540245390.0", "openUtc": "27000.0",
    "changeUtc24h": "0.00022", "indexPrice": "27007.8", "fundingRate": "0.0001",
    "holdingAmount": "0", "open24h": "26999.0", "markPrice": "27006.5",
}  # fmt: skip
SPOT_SYMBOL = {
    "symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "minTradeAmount": "0",
    "maxTradeAmount": "10000000000", "takerFeeRate": "0.002", "makerFeeRate": "0.002",
    "pricePrecision": "2", "quantityPrecision": "4", "quotePrecision": "6",
    "status": "online", "minTradeUSDT": "5",
}  # fmt: skip
CONTRACT = {
    "symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "minTradeNum": "0.001",
    "priceEndStep": "1", "volumePlace": "3", "pricePlace": "1", "sizeMultiplier": "0.001",
    "symbolType": "perpetual", "minTradeUSDT": "5", "symbolStatus": "normal",
    "fundInterval": "8", "maxOrderQty": "1200",
}  # fmt: skip


async def test_rest_served_methods_and_the_live_ticker(
    bitget: tuple[Agent, FakeExchange],
) -> None:
    agent, fake = bitget
    # Bitget spot candles: [ts, open, high, low, close, baseVolume, usdtVolume, quoteVolume].
    candles = [
        ["1695835800000", "26210.5", "26210.5", "26194.5", "26194.5", "26.26", "687897", "63"],
        ["1695835740000", "26200", "26215", "26190", "26210.5", "10", "262100", "10"],
    ]
    canned = {
        "/api/v2/spot/market/candles": _envelope(candles),
        "/api/v2/mix/market/candles": _envelope([c[:7] for c in candles]),
        "/api/v2/spot/market/tickers": _envelope([SPOT_TICKER, {**SPOT_TICKER, "symbol": "X"}]),
        "/api/v2/mix/market/tickers": _envelope([FUTURES_TICKER]),
        "/api/v2/spot/public/symbols": _envelope([SPOT_SYMBOL]),
        "/api/v2/mix/market/contracts": _envelope(
            [CONTRACT, {**CONTRACT, "symbol": "ETHUSDT", "symbolType": "delivery"}]
        ),
        "/api/v2/mix/market/current-fund-rate": _envelope(
            [
                {
                    "symbol": "BTCUSDT",
                    "fundingRate": "0.000068",
                    "fundingRateInterval": "4",
                    "nextUpdate": "1743062400000",
                    "minFundingRate": "-0.003",
                    "maxFundingRate": "0.003",
                }
            ]
        ),
        "/api/v2/spot/market/fills": _envelope(
            [
                {
                    "symbol": "BTCUSDT",
                    "tradeId": "1",
                    "side": "buy",
                    "price": "2.38735",
                    "size": "2.07",
                    "ts": "1695777870002",
                },
                {
                    "symbol": "BTCUSDT",
                    "tradeId": "0",
                    "side": "sell",
                    "price": "2.38734",
                    "size": "1",
                    "ts": "1695777870001",
                },
            ]
        ),
        "/api/v2/mix/account/set-leverage": _envelope(
            {
                "symbol": "BTCUSDT",
                "marginCoin": "USDT",
                "longLeverage": "20",
                "shortLeverage": "20",
                "marginMode": "crossed",
            }
        ),
    }
    async with CannedHost(fake, "bitget", canned) as host:
        redirects = {**fake.redirects, "api.bitget.com": host.url}
        async with FMZBridge(port=0, client_kwargs={"redirects": redirects}) as bridge:
            trader = Agent(bridge.url, agent.session, secret_key=f"{SECRET},{PASSPHRASE}")

            async def data(method: str, params: dict[str, Any] | None = None) -> Any:
                return await trader.data(method, params, exchange="BitgetFutures")

            expected = [
                [1695835740, "26200", "26215", "26190", "26210.5", "10"],
                [1695835800, "26210.5", "26210.5", "26194.5", "26194.5", "26.26"],
            ]
            assert await data("records", {"symbol": "BTC_USDT", "period": "60"}) == expected
            assert host.seen[-1][1:] == (
                "/api/v2/spot/market/candles",
                {"symbol": "BTCUSDT", "granularity": "1h", "limit": "500"},
            )
            assert await data("records", {"symbol": "BTC_USDT.swap", "period": "1440"}) == expected
            assert host.seen[-1][2]["granularity"] == "1D"
            assert host.seen[-1][2]["productType"] == "USDT-FUTURES"

            trades = await data("trades", {"symbol": "BTC_USDT"})
            assert trades[:2] == [
                {"id": "0", "time": 1695777870001, "price": "2.38734", "amount": "1",
                 "type": "sell"},
                {"id": "1", "time": 1695777870002, "price": "2.38735", "amount": "2.07",
                 "type": "buy"},
            ]  # fmt: skip
            fake.tick(30, SPOT)
            streamed = await poll(
                trader,
                "trades",
                {"symbol": "BTC_USDT"},
                lambda t: len(t) > 2,
                exchange="BitgetFutures",
            )
            assert streamed[:2] == trades[:2]
            assert len(streamed) > 2
            assert [p for _, p, _ in host.seen].count("/api/v2/spot/market/fills") == 1

            ticker = await data("ticker", {"symbol": "BTC_USDT.swap"})
            bids, asks = fake.book(FUT).top(1)
            assert (ticker["symbol"], ticker["buy"], ticker["sell"]) == (
                "BTC_USDT.swap", number_text(bids[0][0]), number_text(asks[0][0])
            )  # fmt: skip
            assert Decimal(ticker["low"]) <= Decimal(ticker["last"]) <= Decimal(ticker["high"])
            assert ticker["time"].isdigit()

            rows = await data("tickers")
            assert [(r["symbol"], r["buy"], r["sell"], r["open"], r["time"]) for r in rows] == [
                ("BTC_USDT", "34413.1", "34413.2", "35134.2", "1695808949356"),
                ("BTC_USDT.swap", "27006", "27006.2", "26999", "1695808949357"),
            ]
            markets = await data("markets")
            assert markets == {
                "BTC_USDT": {
                    "symbol": "BTCUSDT", "base_asset": "BTC", "quote_asset": "USDT",
                    "tick_size": "0.01", "amount_size": "0.0001", "price_precision": 2,
                    "amount_precision": 4, "min_qty": "0", "max_qty": "10000000000",
                    "min_notional": "5", "max_notional": "0", "ct_val": "0", "ct_val_ccy": "",
                },
                "BTC_USDT.swap": {
                    "symbol": "BTCUSDT", "base_asset": "BTC", "quote_asset": "USDT",
                    "tick_size": "0.1", "amount_size": "0.001", "price_precision": 1,
                    "amount_precision": 3, "min_qty": "0.001", "max_qty": "1200",
                    "min_notional": "5", "max_notional": "0", "ct_val": "1",
                    "ct_val_ccy": "BTC",
                },
            }  # fmt: skip
            assert await data("fundings", {"symbol": "BTC_USDT.swap"}) == [
                {"symbol": "BTC_USDT.swap", "interval": 14_400_000, "time": 1743062400000,
                 "rate": "0.000068"}
            ]  # fmt: skip
            assert await data("SetMarginLevel", {"symbol": "BTC_USDT.swap", "marginLevel": "20"})
            verb, path, sent = host.seen[-1]
            assert (verb, path) == ("POST", "/api/v2/mix/account/set-leverage")
            assert sent == {"symbol": "BTCUSDT", "productType": "USDT-FUTURES",
                            "marginCoin": "USDT", "leverage": "20"}  # fmt: skip
            assert "whole number" in await trader.error(
                "marginlevel", {"symbol": "BTC_USDT.swap", "marginLevel": "2.5"},
                exchange="Bitget",
            )  # fmt: skip
            assert "is not a Bitget granularity" in await trader.error(
                "records", {"symbol": "BTC_USDT", "period": "7"}, exchange="Bitget"
            )
    assert not any(secret in reply for reply in trader.replies for secret in SECRETS)
