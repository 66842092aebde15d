"""Order entry in the fake Binance Spot and USDⓈ-M venues: signed REST order/openOrders/
allOrders with the real Client, executionReport / ORDER_TRADE_UPDATE and balance/position
updates read by the stores, matching against the fake book, hedge mode, Binance's errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from datastores import Client
from datastores.exchanges.binance.store import BinanceSpotDataStore, BinanceUSDSMDataStore
from datastores.testing import FakeExchange

SPOT = "https://api.binance.com"
FAPI = "https://fapi.binance.com"
BTC = "BTCUSDT"


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.002)


async def call(client: Client, method: str, url: str, **params: str) -> tuple[int, Any]:
    if method in ("GET", "DELETE"):
        result = await client.fetch(method, url, params=params)
    else:
        result = await client.fetch(method, url, data=params)
    return result.response.status, result.data


def amount(store: Any, asset: str, field: str) -> Decimal:
    """A balance field as a number (0 when the store has none yet)."""
    store_field = store.account if isinstance(store, BinanceSpotDataStore) else store.balance
    row = store_field.get({"a": asset})
    return Decimal(row[field]) if row is not None else Decimal(0)


@pytest.fixture
async def spot() -> AsyncIterator[tuple[FakeExchange, Client, BinanceSpotDataStore]]:
    async with FakeExchange("binance-spot", seed=2, rate=0, levels=200) as fake:
        fake.set_balance("USDT", "100000")
        fake.set_balance("BTC", "1")
        store = BinanceSpotDataStore()
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            app = await client.ws_connect(
                "wss://ws-api.binance.com:443/ws-api/v3",
                send_json={"id": 1, "method": "userDataStream.subscribe.signature", "params": {}},
                hdlr_json=store.onmessage,
            )
            await until(lambda: bool(store._subscriptions))
            yield fake, client, store
            await app.close()


@pytest.fixture
async def usdsm() -> AsyncIterator[tuple[FakeExchange, Client, BinanceUSDSMDataStore]]:
    async with FakeExchange("binance-usdsm", seed=2, rate=0, levels=200) as fake:
        fake.set_balance("USDT", "100000")
        store = BinanceUSDSMDataStore()
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            await store.initialize(client.post(f"{FAPI}/fapi/v1/listenKey"))
            app = await client.ws_connect(
                f"wss://fstream.binance.com/private/ws/{store.listenkey}",
                hdlr_json=store.onmessage,
            )
            await fake.wait_for_connections(1)
            yield fake, client, store
            await app.close()


async def test_spot_place_query_list_cancel_and_fill(
    spot: tuple[FakeExchange, Client, BinanceSpotDataStore],
) -> None:
    fake, client, store = spot
    bids, asks = fake.book(BTC).top(3)
    price = str(Decimal(bids[0][0]) - 50)
    status, placed = await call(
        client, "POST", f"{SPOT}/api/v3/order", symbol=BTC, side="BUY", type="LIMIT",
        timeInForce="GTC", quantity="0.5", price=price, newClientOrderId="mine-1",
    )  # fmt: skip
    assert (status, placed["status"], placed["clientOrderId"], placed["fills"]) == (
        200, "NEW", "mine-1", [],
    )  # fmt: skip
    order_id = placed["orderId"]
    await until(lambda: store.order.get({"s": BTC, "i": order_id}) is not None)
    # The order reserves its cost (outboundAccountPosition).
    locked = Decimal(price) / 2
    await until(lambda: amount(store, "USDT", "l") == locked)
    _, queried = await call(
        client, "GET", f"{SPOT}/api/v3/order", symbol=BTC, orderId=str(order_id)
    )
    _, by_client = await call(
        client, "GET", f"{SPOT}/api/v3/order", symbol=BTC, origClientOrderId="mine-1"
    )
    _, listed = await call(client, "GET", f"{SPOT}/api/v3/openOrders", symbol=BTC)
    assert queried == by_client == listed[0]
    assert (queried["price"], queried["origQty"], queried["status"]) == (
        price, "0.50000000", "NEW",
    )  # fmt: skip
    status, cancelled = await call(
        client, "DELETE", f"{SPOT}/api/v3/order", symbol=BTC, orderId=str(order_id)
    )
    assert (status, cancelled["status"]) == (200, "CANCELED")
    await until(lambda: store.order.get({"s": BTC, "i": order_id}) is None)
    assert (await call(client, "GET", f"{SPOT}/api/v3/openOrders"))[1] == []
    _, history = await call(client, "GET", f"{SPOT}/api/v3/allOrders", symbol=BTC)
    assert [(o["orderId"], o["status"]) for o in history] == [(order_id, "CANCELED")]

    # A market buy takes the asks level by level; the fills are in the FULL answer.
    size = Decimal(asks[0][1]) + Decimal(asks[1][1]) / 2
    size -= size % Decimal("0.00001")
    _, bought = await call(
        client, "POST", f"{SPOT}/api/v3/order", symbol=BTC, side="BUY", type="MARKET",
        quantity=str(size),
    )  # fmt: skip
    fills = [(Decimal(f["price"]), Decimal(f["qty"])) for f in bought["fills"]]
    assert fills == [
        (Decimal(asks[0][0]), Decimal(asks[0][1])),
        (Decimal(asks[1][0]), size - Decimal(asks[0][1])),
    ]
    assert (bought["status"], Decimal(bought["executedQty"])) == ("FILLED", size)
    cost = sum(p * q for p, q in fills)
    assert Decimal(bought["cummulativeQuoteQty"]) == cost
    await until(lambda: amount(store, "BTC", "f") == 1 + size)
    assert (amount(store, "USDT", "f"), amount(store, "USDT", "l")) == (100000 - cost, 0)

    # quoteOrderQty: spend at most 1000 USDT selling... buying whole lots.
    _, quoted = await call(
        client, "POST", f"{SPOT}/api/v3/order", symbol=BTC, side="BUY", type="MARKET",
        quoteOrderQty="1000",
    )  # fmt: skip
    assert Decimal(0) < Decimal(quoted["cummulativeQuoteQty"]) <= 1000


async def test_spot_errors(spot: tuple[FakeExchange, Client, BinanceSpotDataStore]) -> None:
    fake, client, _ = spot
    ask = fake.book(BTC).top(1)[1][0][0]
    order = {"symbol": BTC, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}

    async def refused(**params: str) -> tuple[int, str]:
        status, body = await call(client, "POST", f"{SPOT}/api/v3/order", **params)
        assert status == 400
        assert set(body) == {"code", "msg"}
        return body["code"], body["msg"]

    assert await refused(**{**order, "symbol": "NOPEUSDT"}, quantity="1", price="1") == (
        -1121, "Invalid symbol.",
    )  # fmt: skip
    assert await refused(**order, quantity="0.000001", price=ask) == (
        -1013, "Filter failure: LOT_SIZE",
    )  # fmt: skip
    assert await refused(**order, quantity="0.1", price="60000.001") == (
        -1013, "Filter failure: PRICE_FILTER",
    )  # fmt: skip
    assert await refused(**order, quantity="5", price=ask) == (
        -2010, "Account has insufficient balance for requested action.",
    )  # fmt: skip
    assert await refused(
        symbol=BTC, side="BUY", type="LIMIT_MAKER", quantity="0.01", price=ask
    ) == (-2010, "Order would immediately match and take.")
    assert (await refused(symbol=BTC, side="BUY", type="LIMIT", quantity="1", price="1"))[0] == (
        -1102
    )
    assert (await refused(**order, quantity="1"))[0] == -1102
    status, body = await call(client, "DELETE", f"{SPOT}/api/v3/order", symbol=BTC, orderId="77")
    assert (status, body) == (400, {"code": -2011, "msg": "Unknown order sent."})
    status, body = await call(client, "GET", f"{SPOT}/api/v3/order", symbol=BTC, orderId="77")
    assert (status, body) == (400, {"code": -2013, "msg": "Order does not exist."})
    assert fake.venues["binance-spot"].account.orders == {}


async def test_usdsm_orders_positions_hedge_mode_and_errors(
    usdsm: tuple[FakeExchange, Client, BinanceUSDSMDataStore],
) -> None:
    fake, client, store = usdsm
    order_url = f"{FAPI}/fapi/v1/order"
    bid = fake.book(BTC).top(1)[0][0][0]
    status, resting = await call(
        client, "POST", order_url, symbol=BTC, side="BUY", type="LIMIT", timeInForce="GTC",
        quantity="0.100", price=str(Decimal(bid) - 10),
    )  # fmt: skip
    assert (status, resting["status"], resting["positionSide"]) == (200, "NEW", "BOTH")
    await until(lambda: store.order.get({"s": BTC, "i": resting["orderId"]}) is not None)
    _, listed = await call(client, "GET", f"{FAPI}/fapi/v1/openOrders", symbol=BTC)
    assert [o["orderId"] for o in listed] == [resting["orderId"]]
    _, gone = await call(client, "DELETE", order_url, symbol=BTC, orderId=str(resting["orderId"]))
    assert gone["status"] == "CANCELED"
    await until(lambda: store.order.get({"s": BTC, "i": resting["orderId"]}) is None)

    _, opened = await call(
        client, "POST", order_url, symbol=BTC, side="BUY", type="MARKET", quantity="0.500"
    )
    assert opened["status"] == "FILLED"
    key = {"s": BTC, "ps": "BOTH"}
    await until(lambda: (store.position.get(key) or {}).get("pa") == "0.5")
    entry = Decimal(store.position.get(key)["ep"])  # type: ignore[index]
    status, body = await call(
        client, "POST", order_url, symbol=BTC, side="BUY", type="MARKET", quantity="0.1",
        reduceOnly="true",
    )  # fmt: skip
    assert (status, body) == (400, {"code": -2022, "msg": "ReduceOnly Order is rejected."})
    _, closed = await call(
        client, "POST", order_url, symbol=BTC, side="SELL", type="MARKET", quantity="0.5",
        reduceOnly="true",
    )  # fmt: skip
    await until(lambda: (store.position.get(key) or {}).get("pa") == "0")
    exit_price = Decimal(closed["avgPrice"])
    profit = (exit_price - entry) * Decimal("0.5")
    await until(lambda: amount(store, "USDT", "wb") == 100000 + profit)

    # Hedge mode: positionSide required, reduceOnly not accepted.
    _, dual = await call(
        client, "POST", f"{FAPI}/fapi/v1/positionSide/dual", dualSidePosition="true"
    )
    assert dual == {"code": 200, "msg": "success"}
    assert (await call(client, "GET", f"{FAPI}/fapi/v1/positionSide/dual"))[1] == {
        "dualSidePosition": True
    }
    market = {"symbol": BTC, "type": "MARKET", "quantity": "0.2"}
    status, body = await call(client, "POST", order_url, side="SELL", **market)
    assert body["code"] == -4061
    status, body = await call(
        client, "POST", order_url, side="SELL", positionSide="SHORT", reduceOnly="true", **market
    )
    assert body["code"] == -1106
    _, short = await call(client, "POST", order_url, side="SELL", positionSide="SHORT", **market)
    assert (short["status"], short["positionSide"]) == ("FILLED", "SHORT")
    short_key = {"s": BTC, "ps": "SHORT"}
    await until(lambda: (store.position.get(short_key) or {}).get("pa") == "-0.2")
    _, cover = await call(client, "POST", order_url, side="BUY", positionSide="SHORT", **market)
    assert cover["status"] == "FILLED"
    await until(lambda: (store.position.get(short_key) or {}).get("pa") == "0")

    ask = fake.book(BTC).top(1)[1][0][0]
    status, body = await call(
        client, "POST", order_url, symbol=BTC, side="BUY", positionSide="LONG", type="LIMIT",
        timeInForce="GTX", quantity="0.1", price=ask,
    )  # fmt: skip
    assert (status, body["code"]) == (400, -5022)
    status, body = await call(
        client, "POST", order_url, symbol=BTC, side="BUY", positionSide="LONG", type="MARKET",
        quantity="100",
    )  # fmt: skip
    assert (status, body) == (400, {"code": -2019, "msg": "Margin is insufficient."})
    status, body = await call(client, "GET", order_url, symbol=BTC, orderId="5")
    assert (status, body["code"]) == (400, -2013)
