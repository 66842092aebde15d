"""BybitDataStore: topic routing, public and private stores, initialize(), bad input.

Order books are tested in test_orderbook.py (which reuses the helpers here).
Replay files: tests/exchanges/bybit/data/ (documented message shapes, invented values).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import test_utils, web

from datastores import ExchangeAPIError, RateLimitError
from datastores._client import Client
from datastores.exchanges.bybit.store import BybitDataStore

DATA = Path(__file__).parent / "data"

# --------------------------------------------------------------------- helpers


def load(name: str) -> Any:
    """A fresh copy of one replay file's content."""
    return json.loads((DATA / name).read_text())


def replay(store: BybitDataStore, name: str, ws: Any = None) -> list[Any]:
    messages = load(name)
    for msg in messages:
        store.onmessage(msg, ws)
    return messages


class FakeWS:
    """Stands in for a WebSocketApp connection: records what the store sends."""

    def __init__(self, url: str = "wss://stream.bybit.com/v5/public/linear") -> None:
        self.url = url
        self.closed = False
        self.sent: list[Any] = []

    async def send_json(self, obj: Any, auth: Any = None) -> None:
        self.sent.append(copy.deepcopy(obj))

    async def send_str(self, text: str) -> None:
        self.sent.append(text)


class RestStandIn:
    """Answers GET requests with queued JSON bodies per path; records every request."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[Any]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []

    def answer(self, path: str, *bodies: Any) -> None:
        """Queue bodies for ``path``; the last one is repeated."""
        self.bodies[path] = list(bodies)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query)))
        queue = self.bodies.get(request.path)
        if not queue:
            return web.json_response({"retCode": 10001, "retMsg": "unknown path"}, status=404)
        body = queue.pop(0) if len(queue) > 1 else queue[0]
        return web.json_response(body)


@asynccontextmanager
async def rest_stand_in(**client_kwargs: Any) -> AsyncIterator[tuple[RestStandIn, Client]]:
    """A REST stand-in on 127.0.0.1 and a Client redirecting api.bybit.com to it."""
    stand_in = RestStandIn()
    app = web.Application()
    app.router.add_get("/{tail:.*}", stand_in.handle)
    server = test_utils.TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("/")).rstrip("/")
    try:
        async with Client(apis={}, redirects={"api.bybit.com": base}, **client_kwargs) as client:
            yield stand_in, client
    finally:
        await server.close()


async def until(predicate: Callable[[], bool], *, steps: int = 3000) -> None:
    """Yield to the loop until ``predicate()`` holds (loopback I/O needs real turns)."""
    for _ in range(steps):
        if predicate():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition not reached")


# ---------------------------------------------------------------- public data


def test_public_topics_replay_into_their_stores() -> None:
    store = BybitDataStore()
    messages = replay(store, "public.json")

    assert [t["i"] for t in store.trade.find()] == [
        "20f43950-d8dd-5b31-9112-a178eb6023af",
        "3b9a0e1c-7f1c-5e55-a9d1-2c8d3c0b1f20",
        "8c5e2b11-0a41-5d0f-8f6e-6a3f1a4e9b77",
    ]
    ticker = store.ticker.get({"symbol": "BTCUSDT"})
    assert ticker is not None
    # the delta is merged into the snapshot: changed fields move, others stay
    assert (ticker["bid1Price"], ticker["lastPrice"], ticker["markPrice"]) == (
        "17215.00",
        "17215.50",
        "17217.33",
    )
    candles = store.kline.find()
    assert len(candles) == 1  # same (symbol, start, end): the open candle was updated
    assert candles[0]["symbol"] == "BTCUSDT"
    assert (candles[0]["close"], candles[0]["confirm"]) == ("16690", True)
    assert store.all_liquidation.find() == [
        {"T": 1739502302929, "s": "ROSEUSDT", "S": "Sell", "v": "20000", "p": "0.04499"}
    ]
    assert [x["symbol"] for x in store.liquidation.find()] == ["GALAUSDT"]
    assert store.lt_kline.find()[0]["symbol"] == "EOS3LUSDT"
    assert store.lt_ticker.get({"symbol": "EOS3LUSDT"})["price24hPcnt"] == "-0.0388"  # type: ignore[index]
    assert store.lt_nav.get({"symbol": "EOS3LUSDT"})["nav"] == "0.413517419653406162"  # type: ignore[index]
    # the decoded messages are left untouched (they may be shared with other handlers)
    assert messages == load("public.json")
    assert store.dropped_messages == 0


def test_store_names_and_properties_follow_the_reference_api() -> None:
    store = BybitDataStore()
    expected = {
        "orderbook": store.orderbook,
        "publicTrade": store.trade,
        "tickers": store.ticker,
        "kline": store.kline,
        "allLiquidation": store.all_liquidation,
        "kline_lt": store.lt_kline,
        "tickers_lt": store.lt_ticker,
        "lt": store.lt_nav,
        "liquidation": store.liquidation,
        "position": store.position,
        "execution": store.execution,
        "order": store.order,
        "wallet": store.wallet,
        "greeks": store.greek,
    }
    for name, attribute in expected.items():
        assert store[name] is attribute
    assert store.order.keys == ("orderId",)
    assert store.position.keys == ("symbol", "positionIdx")
    assert store.wallet.keys == ("accountType",)
    assert store.kline.keys == ("symbol", "start", "end")
    assert store.trade.keys == ()
    assert store.trade._MAXLEN == 99999


# --------------------------------------------------------------- private data


def test_private_topics_replay() -> None:
    store = BybitDataStore()
    replay(store, "private.json")

    # `position` and the categorised `position.linear` share one store
    positions = {(p["symbol"], p["positionIdx"]): p for p in store.position.find()}
    assert set(positions) == {("BTCUSDT", 2), ("BTCUSDT", 1)}
    assert positions["BTCUSDT", 1]["size"] == "0.010"
    assert [e["execId"] for e in store.execution.find()] == ["7e2ae69c-4edf-5800-a352-893d52b446aa"]

    # New x2, then PartiallyFilled (order.linear) merges, then Cancelled deletes the other
    orders = store.order.find()
    assert [o["orderId"] for o in orders] == ["c1956690-b731-4191-97c0-94b00422231b"]
    order = orders[0]
    assert (order["orderStatus"], order["leavesQty"], order["cumExecQty"]) == (
        "PartiallyFilled",
        "0.004",
        "0.006",
    )
    assert order["timeInForce"] == "GTC"  # kept from the New message (merge)

    wallet = store.wallet.get({"accountType": "UNIFIED"})
    assert wallet is not None
    assert wallet["totalEquity"] == "12840.00000000"
    assert wallet["accountLTV"] == "0.017"  # not in the second message: kept
    coins = {c["coin"]: c for c in wallet["coin"]}
    assert set(coins) == {"BTC", "USDC"}  # USDC absent from the update: kept
    assert coins["BTC"]["walletBalance"] == "0.07000000"
    assert coins["USDC"]["walletBalance"] == "201.34882644"

    assert store.greek.get({"baseCoin": "ETH"})["totalDelta"] == "0.06999986"  # type: ignore[index]
    assert store.dropped_messages == 0


def order_msg(topic: str, *orders: dict[str, Any]) -> dict[str, Any]:
    base = {"category": "spot", "symbol": "BTCUSDT", "orderLinkId": "", "side": "Buy"}
    return {"topic": topic, "creationTime": 1, "data": [{**base, **o} for o in orders]}


@pytest.mark.parametrize(
    "final",
    ["Rejected", "PartiallyFilledCanceled", "Filled", "Cancelled", "Triggered", "Deactivated"],
)
def test_final_order_status_deletes_the_order_and_its_linked_orders(final: str) -> None:
    store = BybitDataStore()
    store.onmessage(
        order_msg(
            "order.spot",
            {"orderId": "tp-1", "orderLinkId": "strategy-7", "orderStatus": "Untriggered"},
            {"orderId": "o-2", "orderLinkId": "strategy-7", "orderStatus": "New"},
            {"orderId": "o-3", "orderLinkId": "", "orderStatus": "New"},
            {"orderId": "o-4", "orderLinkId": "", "orderStatus": "Active"},
        )
    )
    assert len(store.order) == 4
    store.onmessage(
        order_msg("order", {"orderId": "o-2", "orderLinkId": "strategy-7", "orderStatus": final})
    )
    # the spot conditional order (another orderId, same orderLinkId) leaves too;
    # orders with an empty orderLinkId are not linked to each other
    assert sorted(o["orderId"] for o in store.order.find()) == ["o-3", "o-4"]
    store.onmessage(order_msg("order", {"orderId": "o-3", "orderStatus": final}))
    assert [o["orderId"] for o in store.order.find()] == ["o-4"]


def test_one_message_may_carry_the_same_order_twice_and_the_last_state_wins() -> None:
    store = BybitDataStore()
    store.onmessage(
        order_msg(
            "order",
            {"orderId": "a", "orderStatus": "New", "leavesQty": "1"},
            {"orderId": "a", "orderStatus": "Filled", "leavesQty": "0"},
            {"orderId": "b", "orderStatus": "Filled"},  # unknown id: harmless
        )
    )
    assert len(store.order) == 0


def test_unknown_order_status_keeps_the_order_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = BybitDataStore()
    with caplog.at_level(logging.WARNING, logger="datastores.exchanges.bybit"):
        store.onmessage(order_msg("order", {"orderId": "a", "orderStatus": "Parked"}))
        store.onmessage(order_msg("order", {"orderId": "a", "orderStatus": "Parked", "qty": "2"}))
    assert store.order.get({"orderId": "a"})["qty"] == "2"  # type: ignore[index]
    assert len([r for r in caplog.records if "Parked" in r.getMessage()]) == 1


def test_watchers_see_wallet_merge_as_one_update_without_touching_the_message() -> None:
    store = BybitDataStore()
    messages = load("private.json")
    wallet_messages = [m for m in messages if m["topic"] == "wallet"]
    store.onmessage(wallet_messages[0])
    with store.wallet.watch() as stream:
        store.onmessage(wallet_messages[1])
        change = stream.get_nowait()
    assert change is not None
    assert change.operation == "update"
    assert [c["coin"] for c in change.data["coin"]] == ["BTC", "USDC"]
    assert [c["coin"] for c in wallet_messages[1]["data"][0]["coin"]] == ["BTC"]


# ------------------------------------------------ unknown topics, replies, bad input


def test_unknown_and_newer_topics_go_to_generic_stores(caplog: pytest.LogCaptureFixture) -> None:
    store = BybitDataStore()
    with caplog.at_level(logging.WARNING, logger="datastores.exchanges.bybit"):
        replay(store, "other.json")
    assert store["insurance"].find()[0]["balance"] == "1241544.3412"
    assert store["dcp"].find() == [{"product": "OPTIONS", "dcpStatus": "ON", "timeWindow": "10"}]
    # execution.fast repeats `execution` fills: kept apart so fills are never doubled
    assert [e["execId"] for e in store["execution.fast"].find()] == [
        "3510f361-0add-5c7b-a2e7-9679810944fc"
    ]
    assert len(store.execution) == 0
    # RPI levels mean something else: they never touch the order book
    assert len(store["orderbook.rpi"]) == 1
    assert len(store.orderbook) == 0
    assert store.orderbook.symbols == []
    # replies are not drops; the failed subscription is counted and logged
    assert store.dropped_messages == 0
    assert store.failed_operations == 1
    assert any("orderbook.40.BTCUSDT" in r.getMessage() for r in caplog.records)
    assert store.handler_errors == 0


@pytest.mark.parametrize(
    "msg",
    [
        "not json",
        ["a", "list"],
        {"topic": 7, "data": []},
        {"topic": "publicTrade.BTCUSDT", "data": {"not": "a list"}},
        {"topic": "publicTrade.BTCUSDT"},
        {"topic": "tickers.BTCUSDT", "data": [{"symbol": "BTCUSDT"}]},
        {"topic": "kline.5", "data": [{"start": 1, "end": 2}]},
        {"topic": "order", "data": "oops"},
        {"topic": "insurance.USDT", "data": 3},
        {"topic": "orderbook.50.BTCUSDT", "type": "snapshot", "data": []},
        {"topic": "orderbook.50.BTCUSDT", "type": "snapshot", "data": {"s": "BTCUSDT"}},
        {"topic": "orderbook.50.BTCUSDT", "type": "weird", "data": {"s": "X", "u": 1}},
        {"topic": "orderbook.50", "type": "snapshot", "data": {"s": "X", "u": 1}},
        {"topic": "orderbook.50.X", "type": "snapshot", "data": {"s": "X", "u": 1, "a": {}}},
        {"no": "topic"},
    ],
)
def test_malformed_messages_are_dropped_and_counted_without_raising(msg: Any) -> None:
    store = BybitDataStore()
    store.onmessage(msg)
    store.onmessage(msg)  # the cached route is used the second time
    assert store.dropped_messages == 2
    assert store.handler_errors == 0
    assert all(len(s) == 0 for s in store.stores.values())


def test_items_that_are_not_objects_are_dropped_the_rest_is_kept() -> None:
    store = BybitDataStore()
    store.onmessage(
        {"topic": "publicTrade.BTCUSDT", "data": [{"i": "1", "p": "1"}, "junk", 3, {"i": "2"}]}
    )
    assert [t["i"] for t in store.trade.find()] == ["1", "2"]
    assert store.dropped_messages == 1
    # keyed stores refuse items without their key fields (counted by the store)
    store.onmessage({"topic": "position", "data": [{"symbol": "BTCUSDT"}]})
    assert len(store.position) == 0
    assert store.position.dropped == 1


def test_handler_exception_on_a_book_marks_it_unsynced(monkeypatch: pytest.MonkeyPatch) -> None:
    store = BybitDataStore()
    replay(store, "orderbook_50.json")
    assert store.orderbook.is_synced("BTCUSDT")

    def boom(*args: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(store.orderbook, "_on_message", boom)
    store.onmessage(load("orderbook_50.json")[-1])
    assert store.handler_errors == 1
    status = store.orderbook.status("BTCUSDT")
    assert not status.synced
    assert status.errors == 1


# ------------------------------------------------------------------ initialize


async def test_initialize_loads_positions_orders_and_wallet() -> None:
    store = BybitDataStore()
    # state from the stream before the REST calls: kept unless the REST answer replaces it
    store.onmessage(
        order_msg(
            "order",
            {"orderId": "stale", "category": "linear", "symbol": "ETHUSDT", "orderStatus": "New"},
            {
                "orderId": "other-symbol",
                "category": "linear",
                "symbol": "BTCUSDT",
                "orderStatus": "New",
            },
            {"orderId": "spot-1", "category": "spot", "symbol": "ETHUSDT", "orderStatus": "New"},
        )
    )
    store.onmessage(
        {
            "topic": "wallet",
            "data": [{"accountType": "UNIFIED", "coin": [{"coin": "ETH", "equity": "1"}]}],
        }
    )
    async with rest_stand_in() as (rest, client):
        rest.answer("/v5/position/list", load("rest_position_list.json"))
        rest.answer("/v5/order/realtime", load("rest_order_realtime.json"))
        rest.answer("/v5/account/wallet-balance", load("rest_wallet_balance.json"))
        await store.initialize(
            client.get(
                "https://api.bybit.com/v5/position/list",
                params={"category": "inverse", "symbol": "BTCUSD"},
                auth=None,
            ),
            client.get(
                "https://api.bybit.com/v5/order/realtime",
                params={"category": "linear", "symbol": "ETHUSDT"},
                auth=None,
            ),
            client.get(
                "https://api.bybit.com/v5/account/wallet-balance",
                params={"accountType": "UNIFIED"},
                auth=None,
            ),
        )
        assert store.client is client

    position = store.position.get({"symbol": "BTCUSD", "positionIdx": 0})
    assert position is not None
    assert (position["size"], position["category"]) == ("300", "inverse")

    ids = sorted(o["orderId"] for o in store.order.find())
    # the linear ETHUSDT order not in the answer is gone; other symbol/category stay
    assert ids == ["fd4300ae-7847-404e-b947-b46980a4d140", "other-symbol", "spot-1"]
    order = store.order.get({"orderId": "fd4300ae-7847-404e-b947-b46980a4d140"})
    assert order is not None
    assert order["category"] == "linear"

    wallet = store.wallet.get({"accountType": "UNIFIED"})
    assert wallet is not None
    assert [c["coin"] for c in wallet["coin"]] == ["BTC", "USDT", "ETH"]
    assert wallet["totalEquity"] == "3.31216591"


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ({"category": "linear", "settleCoin": "USDT"}, ["usdc-perp"]),
        ({"category": "linear", "baseCoin": "ETH"}, ["btc", "usdc-perp"]),
        ({"category": "linear"}, []),
        ({"category": "linear", "cursor": "page2"}, ["btc", "eth", "usdc-perp"]),
        ({"category": "linear", "openOnly": "1"}, ["btc", "eth", "usdc-perp"]),
    ],
)
async def test_open_orders_replace_only_what_the_query_covers(
    query: dict[str, str], kept: list[str]
) -> None:
    store = BybitDataStore()
    store.onmessage(
        order_msg(
            "order",
            {"orderId": "btc", "category": "linear", "symbol": "BTCUSDT", "orderStatus": "New"},
            {"orderId": "eth", "category": "linear", "symbol": "ETHUSDT", "orderStatus": "New"},
            {
                "orderId": "usdc-perp",
                "category": "linear",
                "symbol": "BTCPERP",
                "orderStatus": "New",
            },
        )
    )
    body = {
        "retCode": 0,
        "retMsg": "OK",
        "result": {
            "category": "linear",
            "nextPageCursor": "",
            "list": [
                # a history query may return closed orders: never stored as live
                {"orderId": "done", "symbol": "ETHUSDT", "orderStatus": "Filled", "orderLinkId": ""}
            ],
        },
    }
    async with rest_stand_in() as (rest, client):
        rest.answer("/v5/order/realtime", body)
        await store.initialize(
            client.get("https://api.bybit.com/v5/order/realtime", params=query, auth=None)
        )
    assert sorted(o["orderId"] for o in store.order.find()) == kept


@pytest.mark.parametrize(
    ("body", "error", "code"),
    [
        (
            {"retCode": 10001, "retMsg": "params error: symbol invalid", "result": {}},
            ExchangeAPIError,
            10001,
        ),
        ({"retCode": 10006, "retMsg": "Too many visits!", "result": {}}, RateLimitError, 10006),
    ],
)
async def test_initialize_raises_on_a_non_zero_ret_code(
    body: dict[str, Any], error: type[Exception], code: int
) -> None:
    store = BybitDataStore()
    async with rest_stand_in() as (rest, client):
        rest.answer("/v5/position/list", body)
        with pytest.raises(error) as info:
            await store.initialize(
                client.get("https://api.bybit.com/v5/position/list?category=linear", auth=None)
            )
    exc = info.value
    assert isinstance(exc, ExchangeAPIError)
    assert exc.code == code
    assert exc.endpoint == "GET /v5/position/list"
    assert body["retMsg"] in str(exc)
    assert "/v5/position/list" in str(exc)
    assert len(store.position) == 0


async def test_initialize_refuses_unknown_endpoints_and_bad_shapes() -> None:
    store = BybitDataStore()
    async with rest_stand_in() as (rest, client):
        rest.answer("/v5/market/tickers", {"retCode": 0, "retMsg": "OK", "result": {"list": []}})
        rest.answer("/v5/position/list", {"retCode": 0, "retMsg": "OK", "result": {"rows": []}})
        with pytest.raises(ValueError, match="/v5/market/tickers"):
            await store.initialize(client.get("https://api.bybit.com/v5/market/tickers", auth=None))
        with pytest.raises(ExchangeAPIError, match=r"result\.list"):
            await store.initialize(client.get("https://api.bybit.com/v5/position/list", auth=None))
