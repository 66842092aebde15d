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
