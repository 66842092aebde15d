"""Order entry through the bridge: trade, orders/order, cancel, against the fake OKX.

The fake OKX has no order-entry endpoints yet (they are being added to the fakes on
their own branch), so a small stand-in for www.okx.com answers
``POST /api/v5/trade/order`` and ``cancel-order`` from the fake's scripted account
(whose private stream then pushes the order as OKX does) and forwards every other
request, signature headers and all, to the fake unchanged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _fmztools import PASSPHRASE, SECRET, Agent
from aiohttp import web

from datastores.apps.fmz.server import FMZBridge
from datastores.testing import FakeExchange


class OrderEntryStandIn:
    """www.okx.com: order entry from the fake's account, the rest forwarded to the fake."""

    def __init__(self, fake: FakeExchange) -> None:
        self.fake = fake
        self.orders: list[dict[str, Any]] = []
        #: GET path -> OKX reply, for endpoints the fake does not serve
        self.canned: dict[str, Any] = {}
        self.queries: list[tuple[str, dict[str, str]]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @staticmethod
    def _refusal(code: str, message: str) -> web.Response:
        return web.json_response(
            {
                "code": "1",
                "msg": "All operations failed",
                "data": [{"sCode": code, "sMsg": message}],
            }
        )

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.path in self.canned:
            self.queries.append((request.path, dict(request.query)))
            reply = self.canned[request.path]
            if request.method == "POST":
                self.queries.append((request.path, json.loads(body)))
            return web.json_response(reply(dict(request.query)) if callable(reply) else reply)
        assert request.headers.get("OK-ACCESS-SIGN"), "order entry must be signed"
        if request.method == "POST" and request.path == "/api/v5/trade/order":
            order = json.loads(body)
            self.orders.append(order)
            if order["instId"] not in self.fake.venues["okx"].markets:
                return self._refusal("51001", "Instrument ID does not exist")
            placed = self.fake.place_order(
                order["instId"],
                order["side"].upper(),
                order["sz"],
                order.get("px", "0"),
                order_type=order["ordType"].upper(),
                venue="okx",
            )
            data = [{"ordId": str(placed.order_id), "clOrdId": "", "sCode": "0", "sMsg": ""}]
            return web.json_response({"code": "0", "msg": "", "data": data})
        if request.method == "POST" and request.path == "/api/v5/trade/cancel-order":
            order = json.loads(body)
            try:
                self.fake.cancel_order(int(order["ordId"]), venue="okx")
            except (KeyError, ValueError):
                return self._refusal(
                    "51400", "Order cancellation failed as the order does not exist"
                )
            data = [{"ordId": order["ordId"], "sCode": "0", "sMsg": ""}]
            return web.json_response({"code": "0", "msg": "", "data": data})
        assert self._session is not None
        target = self.fake.venues["okx"].url + request.path_qs
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with self._session.request(
            request.method, target, headers=headers, data=body
        ) as response:
            return web.Response(
                status=response.status,
                body=await response.read(),
                content_type=response.content_type,
            )


@pytest.fixture
async def trading(okx_fake: FakeExchange) -> AsyncIterator[tuple[Agent, OrderEntryStandIn]]:
    stand_in = OrderEntryStandIn(okx_fake)
    await stand_in.start()
    redirects = {**okx_fake.redirects, "www.okx.com": stand_in.url}
    try:
        async with (
            FMZBridge(port=0, client_kwargs={"redirects": redirects}) as bridge,
            aiohttp.ClientSession() as session,
        ):
            yield Agent(bridge.url, session, secret_key=f"{SECRET},{PASSPHRASE}"), stand_in
    finally:
        await stand_in.close()


async def eventually(agent: Agent, method: str, params: dict[str, Any], expected: Any) -> None:
    for _ in range(500):
        if await agent.data(method, params) == expected:
            return
        await asyncio.sleep(0.01)
    assert await agent.data(method, params) == expected


async def test_an_order_shows_in_orders_and_goes_after_cancel(
    trading: tuple[Agent, OrderEntryStandIn],
) -> None:
    agent, stand_in = trading
    placed = await agent.data(
        "trade", {"symbol": "BTC_USDT", "type": "buy", "price": "60000.5", "amount": "0.001"}
    )
    assert set(placed) == {"id"}
    instrument, _, ord_id = placed["id"].partition(",")
    assert instrument == "BTC-USDT"
    assert stand_in.orders == [
        {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "limit",
            "sz": "0.001",
            "px": "60000.5",
        }
    ]
    expected = {
        "id": placed["id"],
        "symbol": "BTC_USDT",
        "amount": "0.001",
        "price": "60000.5",
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
    assert error.startswith("OKX cancel refused: 1 All operations failed (51400 ")
    assert ord_id.isdigit()


async def test_market_orders_and_futures_sides(trading: tuple[Agent, OrderEntryStandIn]) -> None:
    agent, stand_in = trading
    await agent.data("trade", {"symbol": "BTC_USDT", "type": "sell", "price": -1, "amount": 0.5})
    await agent.data(
        "CreateOrder",
        {"symbol": "BTC_USDT.swap", "type": "closebuy", "price": "64000", "amount": "2"},
    )
    await agent.data(
        "trade", {"symbol": "BTC_USDT.swap", "type": "closesell", "price": "-1", "amount": "1"}
    )
    assert stand_in.orders == [
        {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "side": "sell",
            "ordType": "market",
            "sz": "0.5",
            "tgtCcy": "base_ccy",
        },
        {
            "instId": "BTC-USDT-SWAP",
            "tdMode": "cross",
            "side": "sell",
            "ordType": "limit",
            "sz": "2",
            "px": "64000",
            "reduceOnly": True,
        },
        {
            "instId": "BTC-USDT-SWAP",
            "tdMode": "cross",
            "side": "buy",
            "ordType": "market",
            "sz": "1",
            "reduceOnly": True,
        },
    ]
    error = await agent.error(
        "trade", {"symbol": "NOPE_USDT", "type": "buy", "price": "1", "amount": "1"}
    )
    assert error.startswith("OKX order refused: 1 All operations failed (51001 ")


async def test_concurrent_orders_and_fills(
    trading: tuple[Agent, OrderEntryStandIn], okx_fake: FakeExchange
) -> None:
    agent, _ = trading
    ids = [
        r["id"]
        for r in await asyncio.gather(
            *(
                agent.data(
                    "trade",
                    {"symbol": "ETH_USDT", "type": "buy", "price": str(3000 + i), "amount": "1"},
                )
                for i in range(8)
            )
        )
    ]
    assert len(set(ids)) == 8

    async def open_ids() -> set[str]:
        return {o["id"] for o in await agent.data("orders", {"symbol": "ETH_USDT"})}

    for _ in range(500):
        if await open_ids() == set(ids):
            break
        await asyncio.sleep(0.01)
    assert await open_ids() == set(ids)
    first = int(ids[0].split(",")[1])
    okx_fake.fill_order(first, "0.4", "3000", venue="okx")
    await eventually(
        agent,
        "order",
        {"id": ids[0]},
        {
            "id": ids[0],
            "symbol": "ETH_USDT",
            "amount": "1",
            "price": "3000",
            "deal_amount": "0.4",
            "avg_price": "3000",
            "type": "buy",
            "status": "partial-filled",
        },
    )
    okx_fake.fill_order(first, venue="okx")
    for _ in range(500):
        if ids[0] not in await open_ids():
            break
        await asyncio.sleep(0.01)
    found = await agent.data("order", {"id": ids[0]})
    assert (found["status"], found["deal_amount"]) == ("filled", "1")


async def test_rest_served_methods(trading: tuple[Agent, OrderEntryStandIn]) -> None:
    """records, markets, tickers, fundings, marginlevel and historyorders come from OKX's
    REST endpoints (shapes from https://www.okx.com/docs-v5/en/), which the fake lacks."""
    agent, stand_in = trading
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
    assert stand_in.queries[-1] == (
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
    assert stand_in.queries[-1] == (
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
    assert stand_in.queries[-1] == (
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
