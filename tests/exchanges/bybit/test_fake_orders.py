"""Order entry in the fake Bybit V5 (spot and linear on one server): signed /v5/order/create,
cancel, realtime and history with the real Client, the order/execution/position/wallet topics
a BybitDataStore reads, matching against the fake book, hedge mode, and Bybit's retCode errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from datastores import Client
from datastores.exchanges.bybit.store import BybitDataStore
from datastores.testing import FakeExchange

REST = "https://api.bybit.com"
PRIVATE = "wss://stream.bybit.com/v5/private"
BTC = "BTCUSDT"


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.002)


class Session:
    def __init__(self, fake: FakeExchange, client: Client) -> None:
        self.fake, self.client = fake, client
        self.store = BybitDataStore()

    async def call(self, method: str, path: str, **params: Any) -> dict[str, Any]:
        if method == "GET":
            result = await self.client.fetch(method, REST + path, params=params)
        else:
            result = await self.client.fetch(method, REST + path, data=params)
        assert result.response.status == 200
        assert isinstance(result.data, dict)
        return result.data

    def coin(self, name: str) -> dict[str, Any] | None:
        wallet = self.store.wallet.get({"accountType": "UNIFIED"})
        return next((c for c in (wallet or {}).get("coin", []) if c["coin"] == name), None)

    def executions(self, order_id: str) -> list[tuple[Decimal, Decimal]]:
        return [
            (Decimal(e["execPrice"]), Decimal(e["execQty"]))
            for e in self.store.execution.find()
            if e["orderId"] == order_id
        ]


@pytest.fixture
async def session() -> AsyncIterator[Session]:
    async with FakeExchange("bybit", seed=4, rate=0, levels=200) as fake:
        fake.set_balance("USDT", "100000", venue="bybit-spot")
        fake.set_balance("BTC", "1", venue="bybit-spot")
        fake.set_balance("USDT", "100000", venue="bybit-linear")
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            session = Session(fake, client)
            app = await client.ws_connect(
                PRIVATE,
                send_json={"op": "subscribe", "args": ["order", "execution", "position", "wallet"]},
                hdlr_json=session.store.onmessage,
            )
            await fake.wait_for_connections(1)
            await asyncio.sleep(0.05)  # the subscription is answered after the login
            yield session
            await app.close()


async def test_spot_create_query_cancel_and_a_crossing_order(session: Session) -> None:
    fake, store = session.fake, session.store
    bids = fake.book(BTC, venue="bybit-spot").top(20)[0]
    price = str(Decimal(bids[0][0]) - 30)
    created = await session.call(
        "POST", "/v5/order/create", category="spot", symbol=BTC, side="Buy", orderType="Limit",
        qty="0.5", price=price, orderLinkId="bot-1",
    )  # fmt: skip
    assert (created["retCode"], created["result"]["orderLinkId"]) == (0, "bot-1")
    order_id = created["result"]["orderId"]
    await until(lambda: store.order.get({"orderId": order_id}) is not None)
    pushed = store.order.get({"orderId": order_id})
    assert pushed is not None
    assert (pushed["orderStatus"], pushed["price"], pushed["qty"]) == ("New", price, "0.5")
    realtime = await session.call("GET", "/v5/order/realtime", category="spot", symbol=BTC)
    named = await session.call("GET", "/v5/order/realtime", category="spot", orderLinkId="bot-1")
    assert [o["orderId"] for o in realtime["result"]["list"]] == [order_id]
    assert named["result"]["list"] == realtime["result"]["list"]
    await until(lambda: (session.coin("USDT") or {}).get("locked") == str(Decimal(price) / 2))

    cancelled = await session.call(
        "POST", "/v5/order/cancel", category="spot", symbol=BTC, orderId=order_id
    )
    assert cancelled["result"] == {"orderId": order_id, "orderLinkId": "bot-1"}
    await until(lambda: store.order.get({"orderId": order_id}) is None)
    history = await session.call("GET", "/v5/order/history", category="spot")
    assert [(o["orderId"], o["orderStatus"]) for o in history["result"]["list"]] == [
        (order_id, "Cancelled")
    ]

    # A spot market Buy is sized in USDT; a market Sell of 0.2 BTC takes the bids.
    bought = await session.call(
        "POST", "/v5/order/create", category="spot", symbol=BTC, side="Buy",
        orderType="Market", qty="2000",
    )  # fmt: skip
    sold = await session.call(
        "POST", "/v5/order/create", category="spot", symbol=BTC, side="Sell",
        orderType="Market", qty="0.2", marketUnit="baseCoin",
    )  # fmt: skip
    buy_id, sell_id = bought["result"]["orderId"], sold["result"]["orderId"]
    await until(lambda: bool(session.executions(sell_id)) and bool(session.executions(buy_id)))
    paid = sum(p * q for p, q in session.executions(buy_id))
    assert Decimal(0) < paid <= 2000
    expected, left = [], Decimal("0.2")
    for level_price, level_size in bids:
        take = min(left, Decimal(level_size))
        expected.append((Decimal(level_price), take))
        left -= take
        if not left:
            break
    assert session.executions(sell_id) == expected
    got = sum(q for _, q in session.executions(buy_id))
    await until(
        lambda: (
            Decimal((session.coin("BTC") or {}).get("walletBalance", 0)) == 1 + got - Decimal("0.2")
        )
    )


async def test_linear_positions_hedge_mode_and_errors(session: Session) -> None:
    store = session.store
    opened = await session.call(
        "POST", "/v5/order/create", category="linear", symbol=BTC, side="Buy",
        orderType="Market", qty="0.5",
    )  # fmt: skip
    assert opened["retCode"] == 0
    key = {"symbol": BTC, "positionIdx": 0}
    await until(lambda: (store.position.get(key) or {}).get("size") == "0.5")
    assert store.position.get(key)["side"] == "Buy"  # type: ignore[index]
    refused = await session.call(
        "POST", "/v5/order/create", category="linear", symbol=BTC, side="Buy",
        orderType="Market", qty="0.1", reduceOnly=True,
    )  # fmt: skip
    assert (refused["retCode"], refused["retMsg"]) == (110017, "Reduce-only rule not satisfied")
    closed = await session.call(
        "POST", "/v5/order/create", category="linear", symbol=BTC, side="Sell",
        orderType="Market", qty="0.5", reduceOnly=True,
    )  # fmt: skip
    assert closed["retCode"] == 0
    await until(lambda: (store.position.get(key) or {}).get("size") == "0")

    switched = await session.call(
        "POST", "/v5/position/switch-mode", category="linear", symbol=BTC, mode=3
    )
    assert switched["retCode"] == 0
    again = await session.call(
        "POST", "/v5/position/switch-mode", category="linear", symbol=BTC, mode=3
    )
    assert again["retCode"] == 110025
    one_way = await session.call(
        "POST", "/v5/order/create", category="linear", symbol=BTC, side="Sell",
        orderType="Market", qty="0.1",
    )  # fmt: skip
    assert one_way["retCode"] == 10001
    short = await session.call(
        "POST", "/v5/order/create", category="linear", symbol=BTC, side="Sell",
        orderType="Market", qty="0.3", positionIdx=2,
    )  # fmt: skip
    assert short["retCode"] == 0
    short_key = {"symbol": BTC, "positionIdx": 2}
    await until(lambda: (store.position.get(short_key) or {}).get("size") == "0.3")
    assert store.position.get(short_key)["side"] == "Sell"  # type: ignore[index]

    async def error(**params: Any) -> tuple[int, str]:
        answer = await session.call("POST", "/v5/order/create", **params)
        return answer["retCode"], answer["retMsg"]

    limit = {"side": "Buy", "orderType": "Limit", "price": "60000"}
    assert (await error(category="linear", symbol="NOPE", qty="1", **limit))[0] == 10001
    assert await error(category="linear", symbol=BTC, qty="0.0001", positionIdx=1, **limit) == (
        10001, "Qty invalid",
    )  # fmt: skip
    assert await error(category="linear", symbol=BTC, qty="50", positionIdx=1, **limit) == (
        110007, "ab not enough for new order",
    )  # fmt: skip
    assert await error(category="spot", symbol=BTC, qty="5", **limit) == (
        170131, "Insufficient balance.",
    )  # fmt: skip
    assert (await error(category="spot", symbol=BTC, qty="0.1", side="Buy", orderType="Limit"))[
        0
    ] == 10001
    missing = await session.call(
        "POST", "/v5/order/cancel", category="linear", symbol=BTC, orderId="not-an-order"
    )
    assert (missing["retCode"], missing["retMsg"]) == (110001, "Order does not exist")
    spot_missing = await session.call(
        "POST", "/v5/order/cancel", category="spot", symbol=BTC, orderLinkId="nope"
    )
    assert spot_missing["retCode"] == 170213
