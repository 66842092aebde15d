"""Order entry in the fake OKX (datastores.testing.orders through the OKX dialect): signed REST
place/cancel/details/pending/history with the real Client, the pushes an OKXDataStore reads on
the private stream, matching against the fake book, balances and positions that follow fills,
long/short mode, and OKX's error shapes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from datastores import Client
from datastores.exchanges.okx.store import OKXDataStore
from datastores.testing import FakeExchange

PRIVATE = "wss://ws.okx.com:8443/ws/v5/private"
REST = "https://www.okx.com"
BTC, SWAP = "BTC-USDT", "BTC-USDT-SWAP"


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.002)


class Session:
    """A Client and an OKXDataStore on the fake's private stream, plus the raw pushes."""

    def __init__(self, fake: FakeExchange, client: Client) -> None:
        self.fake, self.client = fake, client
        self.store = OKXDataStore()
        self.pushes: list[dict[str, Any]] = []

    def record(self, msg: Any, ws: Any) -> None:
        if isinstance(msg, dict) and "data" in msg:
            self.pushes.append(msg)

    def fills(self, ord_id: str) -> list[tuple[Decimal, Decimal]]:
        return [
            (Decimal(d["fillPx"]), Decimal(d["fillSz"]))
            for m in self.pushes
            if m["arg"]["channel"] == "orders"
            for d in m["data"]
            if d["ordId"] == ord_id and d["fillSz"] != "0"
        ]

    async def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        result = await self.client.fetch(method, REST + path, **kwargs)
        assert isinstance(result.data, dict)
        return result.data

    async def place(self, **body: str) -> dict[str, Any]:
        return await self.call("POST", "/api/v5/trade/order", data=body)

    async def settled(self) -> None:
        await self.fake.drain()
        await asyncio.sleep(0.02)

    def free(self, ccy: str) -> Decimal:
        row = self.store.account.details.get({"ccy": ccy})
        return Decimal(row["availBal"]) if row is not None else Decimal(0)


@pytest.fixture
async def session() -> AsyncIterator[Session]:
    async with FakeExchange("okx", seed=3, rate=0, levels=200) as fake:
        fake.set_balance("USDT", "100000", venue="okx")
        fake.set_balance("BTC", "1", venue="okx")
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            session = Session(fake, client)
            app = await client.ws_connect(
                PRIVATE,
                send_json={
                    "op": "subscribe",
                    "args": [
                        {"channel": "orders", "instType": "ANY"},
                        {"channel": "positions", "instType": "ANY"},
                        {"channel": "account"},
                    ],
                },
                hdlr_json=[session.store.onmessage, session.record],
            )
            await until(lambda: session.store.account.details.get({"ccy": "USDT"}) is not None)
            yield session
            await app.close()


async def test_place_query_list_cancel_a_resting_order(session: Session) -> None:
    best_bid = Decimal(session.fake.book(BTC, venue="okx").top(1)[0][0][0])
    price = str(best_bid - 100)
    placed = await session.place(
        instId=BTC, tdMode="cash", side="buy", ordType="limit", sz="0.5", px=price, clOrdId="c1"
    )
    assert placed["code"] == "0"
    [ack] = placed["data"]
    assert (ack["sCode"], ack["clOrdId"]) == ("0", "c1")
    ord_id = ack["ordId"]
    await until(lambda: session.store.orders.get({"ordId": ord_id}) is not None)
    pushed = session.store.orders.get({"ordId": ord_id})
    assert pushed is not None
    assert (pushed["state"], pushed["px"], pushed["sz"], pushed["side"]) == (
        "live", price, "0.5", "buy",
    )  # fmt: skip
    # The order reserves its cost: available USDT drops by price x size.
    await until(lambda: session.free("USDT") == 100000 - Decimal(price) * Decimal("0.5"))

    details = await session.call(
        "GET", "/api/v5/trade/order", params={"instId": BTC, "ordId": ord_id}
    )
    by_client = await session.call(
        "GET", "/api/v5/trade/order", params={"instId": BTC, "clOrdId": "c1"}
    )
    pending = await session.call("GET", "/api/v5/trade/orders-pending")
    assert details["data"] == by_client["data"]
    assert [o["ordId"] for o in pending["data"]] == [ord_id]
    for field in ("ordId", "px", "sz", "state", "accFillSz", "side", "ordType"):
        assert details["data"][0][field] == pending["data"][0][field] == pushed[field]

    cancelled = await session.call(
        "POST", "/api/v5/trade/cancel-order", data={"instId": BTC, "ordId": ord_id}
    )
    assert (cancelled["code"], cancelled["data"][0]["sCode"]) == ("0", "0")
    await until(lambda: session.store.orders.get({"ordId": ord_id}) is None)
    await until(lambda: session.free("USDT") == 100000)
    assert (await session.call("GET", "/api/v5/trade/orders-pending"))["data"] == []
    history = await session.call("GET", "/api/v5/trade/orders-history", params={"instType": "SPOT"})
    assert [(o["ordId"], o["state"]) for o in history["data"]] == [(ord_id, "canceled")]


async def test_a_crossing_order_fills_level_by_level_and_moves_balances(session: Session) -> None:
    asks = session.fake.book(BTC, venue="okx").top(3)[1]
    # Take the first two levels whole and part of the third, limited at the third's price.
    size = Decimal(asks[0][1]) + Decimal(asks[1][1]) + Decimal(asks[2][1]) / 2
    size -= size % Decimal("0.00000001")
    placed = await session.place(
        instId=BTC, tdMode="cash", side="buy", ordType="limit", sz=str(size), px=asks[2][0]
    )
    ord_id = placed["data"][0]["ordId"]
    await session.settled()
    fills = session.fills(ord_id)
    expected = [(Decimal(p), Decimal(s)) for p, s in asks[:2]]
    expected.append((Decimal(asks[2][0]), size - expected[0][1] - expected[1][1]))
    assert fills == expected
    cost = sum(p * q for p, q in fills)
    await until(lambda: session.free("BTC") == 1 + size)
    assert session.free("USDT") == 100000 - cost
    order = (
        await session.call("GET", "/api/v5/trade/order", params={"instId": BTC, "ordId": ord_id})
    )["data"][0]
    assert (order["state"], Decimal(order["accFillSz"])) == ("filled", size)
    assert Decimal(order["avgPx"]) == cost / size
    assert session.store.orders.get({"ordId": ord_id}) is None  # filled: gone from the store

    # A market buy is sized in USDT by default; a market sell in BTC.
    spent = await session.place(instId=BTC, tdMode="cash", side="buy", ordType="market", sz="1000")
    assert spent["data"][0]["sCode"] == "0"
    sold = await session.place(instId=BTC, tdMode="cash", side="sell", ordType="market", sz="0.01")
    await session.settled()
    bought = sum(q for _, q in session.fills(spent["data"][0]["ordId"]))
    paid = sum(p * q for p, q in session.fills(spent["data"][0]["ordId"]))
    assert Decimal(0) < paid <= 1000
    bids = session.fake.book(BTC, venue="okx").top(1)[0]
    assert session.fills(sold["data"][0]["ordId"]) == [(Decimal(bids[0][0]), Decimal("0.01"))]
    await until(lambda: session.free("BTC") == 1 + size + bought - Decimal("0.01"))


async def test_a_resting_order_fills_when_the_market_reaches_it(session: Session) -> None:
    fake = session.fake
    best_bid = Decimal(fake.book(BTC, venue="okx").top(1)[0][0][0])
    placed = await session.place(
        instId=BTC, tdMode="cash", side="buy", ordType="limit", sz="0.001", px=str(best_bid)
    )
    ord_id = placed["data"][0]["ordId"]
    for _ in range(3000):
        fake.tick(1, BTC, venue="okx")
        if session.fake.venues["okx"].account.orders[int(ord_id)].status == "FILLED":
            break
    else:
        raise AssertionError("the market never reached the order")
    # It filled at its own price once the ask came down to it.
    assert Decimal(fake.book(BTC, venue="okx").top(1)[1][0][0]) <= best_bid
    await session.settled()
    assert session.fills(ord_id) == [(best_bid, Decimal("0.001"))]
    await until(lambda: session.free("BTC") == Decimal("1.001"))


async def test_swap_positions_follow_fills_reduce_only_and_long_short_mode(
    session: Session,
) -> None:
    store = session.store
    opened = await session.place(instId=SWAP, tdMode="cross", side="buy", ordType="market", sz="3")
    assert opened["data"][0]["sCode"] == "0"
    key = {"instId": SWAP, "mgnMode": "cross", "posSide": "net"}
    await until(lambda: (store.positions.get(key) or {}).get("pos") == "3")
    entry = Decimal(store.positions.get(key)["avgPx"])  # type: ignore[index]
    # 3 contracts of 0.01 BTC at 10x: the margin is locked.
    await until(lambda: session.free("USDT") == 100000 - entry * 3 * Decimal("0.001"))

    wrong_way = await session.place(
        instId=SWAP, tdMode="cross", side="buy", ordType="market", sz="1", reduceOnly="true"
    )
    assert (wrong_way["code"], wrong_way["data"][0]["sCode"]) == ("1", "51169")
    closed = await session.place(
        instId=SWAP, tdMode="cross", side="sell", ordType="market", sz="3", reduceOnly="true"
    )
    assert closed["data"][0]["sCode"] == "0"
    await until(lambda: (store.positions.get(key) or {}).get("pos") == "0")
    exits = session.fills(closed["data"][0]["ordId"])
    assert sum(q for _, q in exits) == 3
    profit = sum((p - entry) * q * Decimal("0.01") for p, q in exits)
    # Realized profit (a loss, across the spread) lands in the balance; margin is freed.
    await until(lambda: session.free("USDT") == 100000 + profit)

    mode = await session.call(
        "POST", "/api/v5/account/set-position-mode", data={"posMode": "long_short_mode"}
    )
    assert mode["data"] == [{"posMode": "long_short_mode"}]
    config = await session.call("GET", "/api/v5/account/config")
    assert config["data"][0]["posMode"] == "long_short_mode"
    no_side = await session.place(
        instId=SWAP, tdMode="cross", side="sell", ordType="market", sz="1"
    )
    assert (no_side["code"], no_side["data"][0]["sMsg"]) == ("1", "Parameter posSide error")
    short = await session.place(
        instId=SWAP, tdMode="cross", side="sell", posSide="short", ordType="market", sz="2"
    )
    assert short["data"][0]["sCode"] == "0"
    short_key = {"instId": SWAP, "mgnMode": "cross", "posSide": "short"}
    await until(lambda: (store.positions.get(short_key) or {}).get("pos") == "2")
    too_much = await session.place(
        instId=SWAP, tdMode="cross", side="buy", posSide="short", ordType="market", sz="5"
    )
    assert too_much["data"][0]["sCode"] == "51169"
    cover = await session.place(
        instId=SWAP, tdMode="cross", side="buy", posSide="short", ordType="market", sz="2"
    )
    assert cover["data"][0]["sCode"] == "0"
    await until(lambda: (store.positions.get(short_key) or {}).get("pos") == "0")
    back = await session.call(
        "POST", "/api/v5/account/set-position-mode", data={"posMode": "net_mode"}
    )
    assert back["code"] == "0"


async def test_okx_error_shapes(session: Session) -> None:
    async def refused(**body: str) -> tuple[str, str]:
        answer = await session.place(**body)
        assert answer["code"] == "1"
        assert answer["msg"] == "All operations failed"
        [item] = answer["data"]
        assert item["ordId"] == ""
        return item["sCode"], item["sMsg"]

    base = {"tdMode": "cash", "side": "buy", "ordType": "limit", "px": "60000"}
    assert (await refused(instId="NOPE-USDT", sz="1", **base))[0] == "51001"
    assert (await refused(instId=BTC, sz="0.000000001", **base))[0] == "51121"
    assert (await refused(instId=BTC, sz="0", **base))[0] == "51121"
    assert await refused(instId=BTC, sz="10", **base) == (
        "51008", "Order failed. Insufficient USDT balance in account.",
    )  # fmt: skip
    assert await refused(instId=BTC, sz="0.1", **{**base, "px": "60000.05"}) == (
        "51000", "Parameter px error",
    )  # fmt: skip
    sell_too_much = await refused(instId=BTC, sz="2", **{**base, "side": "sell", "px": "70000"})
    assert sell_too_much[0] == "51008"
    assert "BTC" in sell_too_much[1]
    missing = await session.place(instId=BTC, tdMode="cash", side="buy", ordType="limit", sz="1")
    assert (missing["code"], missing["data"]) == ("50014", [])
    cancel = await session.call(
        "POST", "/api/v5/trade/cancel-order", data={"instId": BTC, "ordId": "123"}
    )
    assert (cancel["code"], cancel["data"][0]["sCode"]) == ("1", "51400")
    details = await session.call(
        "GET", "/api/v5/trade/order", params={"instId": BTC, "ordId": "123"}
    )
    assert (details["code"], details["data"]) == ("51603", [])
    # Nothing refused changed the account.
    assert session.fake.venues["okx"].account.orders == {}
    assert session.free("USDT") == 100000
