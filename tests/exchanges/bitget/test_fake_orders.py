"""Order entry in the fake Bitget (v2 spot and USDT futures): signed place/cancel/detail/
pending/history with the real Client, the orders/fill/positions/account pushes a
BitgetV2DataStore reads, matching against the fake book, hedge mode, and Bitget's errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from datastores import Client
from datastores.exchanges.bitget.store import BitgetV2DataStore
from datastores.testing import FakeExchange

REST = "https://api.bitget.com"
PRIVATE = "wss://ws.bitget.com/v2/ws/private"
SPOT, FUT = "SPOT:BTCUSDT", "USDT-FUTURES:BTCUSDT"
MIX = {"productType": "USDT-FUTURES", "marginMode": "crossed", "marginCoin": "USDT"}


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.002)


class Session:
    def __init__(self, fake: FakeExchange, client: Client) -> None:
        self.fake, self.client = fake, client
        self.store = BitgetV2DataStore()

    async def call(self, method: str, path: str, **params: Any) -> tuple[int, dict[str, Any]]:
        if method == "GET":
            result = await self.client.fetch(method, REST + path, params=params)
        else:
            result = await self.client.fetch(method, REST + path, data=params)
        assert isinstance(result.data, dict)
        return result.response.status, result.data

    def available(self, inst_type: str, coin: str) -> Decimal:
        row = self.store.account.get({"instType": inst_type, "coin": coin})
        return Decimal(row["available"]) if row is not None else Decimal(-1)

    def fills(self, order_id: str) -> list[tuple[Decimal, Decimal]]:
        rows = [f for f in self.store.fill.find() if f["orderId"] == order_id]
        return [
            (Decimal(f.get("priceAvg") or f["price"]), Decimal(f.get("size") or f["baseVolume"]))
            for f in rows
        ]


@pytest.fixture
async def session() -> AsyncIterator[Session]:
    async with FakeExchange("bitget", seed=6, rate=0, levels=200, symbols=[SPOT, FUT]) as fake:
        fake.set_balance("USDT", "100000")
        fake.set_balance("BTC", "1")
        fake.set_balance("USDT-FUTURES:USDT", "100000")
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            session = Session(fake, client)
            args = [
                {"instType": kind, "channel": channel, "instId": "default"}
                for kind in ("SPOT", "USDT-FUTURES")
                for channel in ("orders", "fill")
            ]
            args += [
                {"instType": "USDT-FUTURES", "channel": "positions", "instId": "default"},
                {"instType": "USDT-FUTURES", "channel": "account", "coin": "default"},
                {"instType": "SPOT", "channel": "account", "coin": "default"},
            ]
            app = await client.ws_connect(
                PRIVATE,
                send_json={"op": "subscribe", "args": args},
                hdlr_json=session.store.onmessage,
            )
            await until(lambda: session.available("USDT-FUTURES", "USDT") == 100000)
            yield session
            await app.close()


async def test_spot_place_info_pending_cancel_history_and_a_market_buy(session: Session) -> None:
    fake, store = session.fake, session.store
    bid = Decimal(fake.book(SPOT).top(1)[0][0][0])
    price = str(bid - 20)
    status, placed = await session.call(
        "POST", "/api/v2/spot/trade/place-order", symbol="BTCUSDT", side="buy",
        orderType="limit", force="gtc", price=price, size="0.5", clientOid="b1",
    )  # fmt: skip
    assert (status, placed["code"], placed["data"]["clientOid"]) == (200, "00000", "b1")
    order_id = placed["data"]["orderId"]
    key = {"instType": "SPOT", "instId": "BTCUSDT", "orderId": order_id}
    await until(lambda: store.orders.get(key) is not None)
    assert store.orders.get(key)["status"] == "live"  # type: ignore[index]
    await until(lambda: session.available("SPOT", "USDT") == 100000 - Decimal(price) / 2)
    _, info = await session.call("GET", "/api/v2/spot/trade/orderInfo", clientOid="b1")
    _, pending = await session.call("GET", "/api/v2/spot/trade/unfilled-orders")
    assert info["data"] == pending["data"]
    assert (info["data"][0]["orderId"], info["data"][0]["size"]) == (order_id, "0.5")
    _, cancelled = await session.call(
        "POST", "/api/v2/spot/trade/cancel-order", symbol="BTCUSDT", orderId=order_id
    )
    assert cancelled["data"] == {"orderId": order_id, "clientOid": "b1"}
    await until(lambda: store.orders.get(key) is None)
    _, history = await session.call("GET", "/api/v2/spot/trade/history-orders")
    assert [(o["orderId"], o["status"]) for o in history["data"]] == [(order_id, "cancelled")]

    # A market buy is sized in USDT and takes the asks.
    _, bought = await session.call(
        "POST", "/api/v2/spot/trade/place-order", symbol="BTCUSDT", side="buy",
        orderType="market", size="3000",
    )  # fmt: skip
    buy_id = bought["data"]["orderId"]
    await until(lambda: bool(session.fills(buy_id)))
    await fake.drain()
    paid = sum(p * q for p, q in session.fills(buy_id))
    got = sum(q for _, q in session.fills(buy_id))
    assert Decimal(0) < paid <= 3000
    await until(lambda: session.available("SPOT", "BTC") == 1 + got)
    assert session.available("SPOT", "USDT") == 100000 - paid


async def test_futures_positions_hedge_mode_and_errors(session: Session) -> None:
    store = session.store
    status, opened = await session.call(
        "POST", "/api/v2/mix/order/place-order", symbol="BTCUSDT", side="buy",
        orderType="market", size="0.5", **MIX,
    )  # fmt: skip
    assert (status, opened["code"]) == (200, "00000")
    await until(lambda: [p["total"] for p in store.positions.find()] == ["0.5"])
    [position] = store.positions.find()
    assert (position["holdSide"], position["posMode"]) == ("long", "one_way_mode")
    entry = Decimal(position["openPriceAvg"])
    # The margin is held: 0.5 BTC at 10x.
    await until(
        lambda: session.available("USDT-FUTURES", "USDT") == 100000 - entry * Decimal("0.05")
    )
    _, detail = await session.call(
        "GET", "/api/v2/mix/order/detail", symbol="BTCUSDT", productType="USDT-FUTURES",
        orderId=opened["data"]["orderId"],
    )  # fmt: skip
    assert (detail["data"]["status"], detail["data"]["baseVolume"]) == ("filled", "0.5")

    status, refused = await session.call(
        "POST", "/api/v2/mix/order/place-order", symbol="BTCUSDT", side="buy",
        orderType="market", size="0.1", reduceOnly="YES", **MIX,
    )  # fmt: skip
    assert (status, refused["code"], refused["data"]) == (400, "22002", None)
    await session.call(
        "POST", "/api/v2/mix/order/place-order", symbol="BTCUSDT", side="sell",
        orderType="market", size="0.5", reduceOnly="YES", **MIX,
    )  # fmt: skip
    await until(lambda: store.positions.find() == [])
    _, history = await session.call(
        "GET", "/api/v2/mix/order/orders-history", productType="USDT-FUTURES"
    )
    assert [o["reduceOnly"] for o in history["data"]["entrustedList"]] == ["YES", "NO"]

    _, mode = await session.call(
        "POST", "/api/v2/mix/account/set-position-mode", productType="USDT-FUTURES",
        posMode="hedge_mode",
    )  # fmt: skip
    assert mode["data"] == {"posMode": "hedge_mode"}
    hedge = {**MIX, "symbol": "BTCUSDT", "orderType": "market", "size": "0.2"}
    status, missing = await session.call(
        "POST", "/api/v2/mix/order/place-order", side="sell", **hedge
    )
    assert (status, missing["code"]) == (400, "40019")
    await session.call(
        "POST", "/api/v2/mix/order/place-order", side="sell", tradeSide="open", **hedge
    )
    await until(lambda: [p["holdSide"] for p in store.positions.find()] == ["short"])
    assert store.positions.find()[0]["posMode"] == "hedge_mode"
    # sell + close closes the short (side names the position in hedge mode).
    await session.call(
        "POST", "/api/v2/mix/order/place-order", side="sell", tradeSide="close", **hedge
    )
    await until(lambda: store.positions.find() == [])

    async def error(path: str, **params: Any) -> str:
        status, body = await session.call("POST", path, **params)
        assert status == 400
        assert body["data"] is None
        return str(body["code"])

    place = "/api/v2/mix/order/place-order"
    limit = {**MIX, "side": "buy", "tradeSide": "open", "orderType": "limit", "price": "60000"}
    assert await error(place, symbol="NOPEUSDT", size="1", **limit) == "40034"
    assert await error(place, symbol="BTCUSDT", size="0.00005", **limit) == "40808"
    assert await error(place, symbol="BTCUSDT", size="100", **limit) == "40762"
    assert await error(place, symbol="BTCUSDT", size="1", **{**limit, "productType": "X"}) == (
        "40020"
    )
    spot_sell = {"symbol": "BTCUSDT", "side": "sell", "orderType": "limit", "price": "70000"}
    assert await error("/api/v2/spot/trade/place-order", size="5", **spot_sell) == "43012"
    cancel = {"symbol": "BTCUSDT", "productType": "USDT-FUTURES", "orderId": "1"}
    assert await error("/api/v2/mix/order/cancel-order", **cancel) == "43001"
