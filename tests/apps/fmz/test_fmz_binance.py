"""The Binance adapter against the fake Binance (spot and USDⓈ-M): market data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
from _fmztools import ACCESS_KEY, SECRET, Agent

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
    for method in ("accounts", "trade", "positions", "records", "GetFundings"):
        assert await agent.error(method, exchange="Binance") == f"not support: {method}"
    error = await agent.error("depth", {"symbol": "BTC_USD.swap"}, exchange="Binance")
    assert "only spot and USDT/USDC-margined .swap" in error
    error = await agent.error("depth", {"symbol": "NOPE_USDT"}, exchange="Binance")
    assert error.startswith("unknown symbol NOPE_USDT")
