"""BitgetV2DataStore: every channel (replayed from files), routing, initialize() over HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from datastores import ExchangeAPIError
from datastores.exchanges.bitget.store import BitgetV2DataStore

DATA = Path(__file__).parent / "data"


def replay(store: BitgetV2DataStore, name: str, ws: Any = None) -> None:
    with open(DATA / name) as f:
        for line in f:
            store.onmessage(json.loads(line), ws)


def changes(stream: Any) -> list[tuple[str, dict[str, Any]]]:
    result = []
    while (change := stream.get_nowait()) is not None:
        result.append((change.operation, change.data))
    return result


# ---------------------------------------------------------------- public replay


def test_public_replay_builds_verified_books_and_market_stores() -> None:
    store = BitgetV2DataStore()
    with store.trade.watch() as trades:
        replay(store, "v2_public.jsonl")
        trade_changes = changes(trades)
    assert store.dropped_messages == 0
    assert store.error_events == 1
    assert store.handler_errors == 0

    spot = store.book.status("BTCUSDT", inst_type="SPOT")
    assert spot.synced
    assert spot.checksum_failures == 0
    assert spot.gaps == 0
    assert spot.last_update_id == 1018
    assert spot.updates == 5
    assert (spot.asks, spot.bids) == (31, 29)
    ask, bid = store.book.best("SPOT:BTCUSDT")
    assert ask == {
        "instType": "SPOT",
        "instId": "BTCUSDT",
        "side": "asks",
        "price": "27000.5",
        "amount": "0.3000",
    }
    assert bid is not None
    assert (bid["price"], bid["amount"]) == ("26999.5", "2.0000")
    assert store.book.get(
        {"instType": "SPOT", "instId": "BTCUSDT", "side": "bids", "price": "26990"}
    ) == {
        "instType": "SPOT",
        "instId": "BTCUSDT",
        "side": "bids",
        "price": "26990.0",
        "amount": "4.5",
    }

    futures = store.book.sorted({"instType": "USDT-FUTURES", "instId": "BTCUSDT"}, limit=1)
    assert futures["asks"][0]["amount"] == "11"
    assert store.book.is_synced("BTCUSDT", inst_type="USDT-FUTURES")

    eth = store.book.sorted({"instId": "ETHUSDT"})
    assert [i["price"] for i in eth["asks"]] == ["1600.3", "1600.4", "1600.5", "1600.6", "1600.7"]
    assert {i["amount"] for i in eth["bids"]} == {"2.5"}
    store.book._check()

    assert store.ticker.get({"instType": "SPOT", "instId": "BTCUSDT"}) == {
        "instType": "SPOT",
        "instId": "BTCUSDT",
        "lastPr": "27001.0",
        "bidPr": "27000",
        "askPr": "27000.5",
        "open24h": "27000.5",
        "ts": "1695702439018",
    }

    candles = store.candle.find({"instId": "BTCUSDT", "granularity": "candle1m"})
    assert [c["startTime"] for c in candles] == ["1695685500000", "1695685560000"]
    assert candles[1]["closePr"] == "27001.5"
    assert candles[1]["usdtVolume"] == "32401.8"

    # Two trades in the same millisecond are two trades.
    assert [op for op, _ in trade_changes] == ["insert", "insert", "insert"]
    assert [t["tradeId"] for t in store.trade.find({"instId": "BTCUSDT"})] == [
        "1111111111",
        "1111111112",
        "1111111113",
    ]
    assert store.trade.find()[0]["instType"] == "SPOT"


def test_replaying_the_public_file_twice_is_idempotent() -> None:
    store = BitgetV2DataStore()
    replay(store, "v2_public.jsonl")
    first = (store.book.find(), store.trade.find(), store.candle.find(), store.ticker.find())
    replay(store, "v2_public.jsonl")
    assert (
        store.book.find(),
        store.trade.find(),
        store.candle.find(),
        store.ticker.find(),
    ) == first
    assert store.book.status("SPOT:BTCUSDT").checksum_failures == 0


# --------------------------------------------------------------- private replay


def test_private_replay_accounts_positions_orders_fills() -> None:
    store = BitgetV2DataStore()
    with store.orders.watch() as orders:
        replay(store, "v2_private.jsonl")
        order_changes = changes(orders)
    assert store.dropped_messages == 0

    # One account item per coin (the reference library kept only the last coin).
    accounts = {(a["instType"], a["coin"]): a for a in store.account.find()}
    assert set(accounts) == {("SPOT", "USDT"), ("SPOT", "BTC"), ("USDT-FUTURES", "USDT")}
    assert accounts["SPOT", "USDT"]["available"] == "11.50"
    assert accounts["SPOT", "BTC"]["available"] == "0.0100"
    assert accounts["USDT-FUTURES", "USDT"]["marginCoin"] == "USDT"

    # A positions push replaces its own instType only.
    positions = {(p["instType"], p["posId"]): p["total"] for p in store.positions.find()}
    assert positions == {("USDT-FUTURES", "2"): "0.02", ("COIN-FUTURES", "9"): "5"}

    assert [(op, o["orderId"], o["status"]) for op, o in order_changes] == [
        ("insert", "100", "live"),
        ("insert", "101", "live"),
        ("update", "100", "partially_filled"),
        ("delete", "100", "partially_filled"),
        ("insert", "200", "live"),
        ("delete", "200", "live"),
    ]
    assert [o["orderId"] for o in store.orders.find()] == ["101"]
    assert store.orders.get({"instType": "USDT-FUTURES", "instId": "BTCUSDT", "orderId": "101"})

    assert [f["tradeId"] for f in store.fill.find()] == ["5001", "5002"]
    assert [o["orderId"] for o in store.orders_algo.find()] == ["301"]
    assert store.positions_history.find()[0]["closeAvgPrice"] == "1890"
    assert store.positions_history.find()[0]["instType"] == "USDT-FUTURES"


def test_empty_positions_push_closes_every_position_of_that_inst_type() -> None:
    store = BitgetV2DataStore()
    replay(store, "v2_private.jsonl")
    store.onmessage(
        {
            "action": "snapshot",
            "arg": {"instType": "USDT-FUTURES", "channel": "positions", "instId": "default"},
            "data": [],
        }
    )
    assert [p["instType"] for p in store.positions.find()] == ["COIN-FUTURES"]


# ------------------------------------------------------------------- routing


def test_unknown_and_malformed_messages_are_dropped_and_counted() -> None:
    store = BitgetV2DataStore()
    for msg in (
        "not json object",
        ["a", "list"],
        {"arg": {"channel": "ticker"}},  # neither data nor event
        {"arg": "ticker", "data": []},
        {"arg": {"channel": "ticker", "instType": "SPOT"}, "data": {"not": "a list"}},
        {"arg": {"channel": "index-price", "instType": "SPOT"}, "data": [{}]},
        {"arg": {"channel": 7}, "data": []},
        {"arg": {"channel": "ticker"}, "data": [{"instId": "X"}]},  # no instType
        {"arg": {"channel": "books", "instType": "SPOT"}, "data": []},  # no instId
    ):
        store.onmessage(msg)
    assert store.dropped_messages == 9
    assert store.handler_errors == 0
    assert all(len(s) == 0 for s in store.stores.values())
    store.onmessage("pong")
    store.onmessage({"event": "subscribe", "arg": {"channel": "ticker"}})
    assert store.dropped_messages == 9


def test_drops_unhandled_channels_and_error_events_are_in_statistics() -> None:
    store = BitgetV2DataStore()
    store.onmessage({"arg": {"channel": "index-price", "instType": "SPOT"}, "data": [{}]})
    store.onmessage({"arg": {"channel": "index-price", "instType": "SPOT"}, "data": [{}]})
    store.onmessage({"arg": {"channel": 7}, "data": []})
    store.onmessage({"arg": {"channel": "ticker"}, "data": [{"instId": "X"}]})
    store.onmessage({"event": "error", "code": "30001", "msg": "bad", "arg": {}})
    stats = store.statistics()
    assert stats.unhandled == {"index-price": 2, "error event": 1}
    assert stats.dropped == {"channel is not a string": 1, "arg without instType": 1}
    assert stats.messages == 5
    assert store.dropped_messages == 4
    assert store.error_events == 1


def test_bad_entries_inside_good_messages_are_refused_by_the_store() -> None:
    store = BitgetV2DataStore()
    store.onmessage(
        {
            "action": "snapshot",
            "arg": {"instType": "SPOT", "channel": "orders", "instId": "BTCUSDT"},
            "data": ["junk", {"orderId": "1", "instId": "BTCUSDT", "status": "mystery"}],
        }
    )
    store.onmessage(
        {
            "action": "snapshot",
            "arg": {"instType": "SPOT", "channel": "candle5m", "instId": "BTCUSDT"},
            "data": [[], "junk", ["1695685500000", "1"]],
        }
    )
    assert store.orders.dropped == 2
    assert len(store.orders) == 0
    assert store.candle.dropped == 2
    assert store.candle.find() == [
        {
            "instType": "SPOT",
            "instId": "BTCUSDT",
            "granularity": "candle5m",
            "startTime": "1695685500000",
            "openPr": "1",
        }
    ]


def test_futures_account_item_keeps_margin_coin_and_gains_coin() -> None:
    store = BitgetV2DataStore()
    for coin in ("USDT", "BTC"):
        store.onmessage(
            {
                "action": "snapshot",
                "arg": {"instType": "COIN-FUTURES", "channel": "account", "coin": "default"},
                "data": [{"marginCoin": coin, "available": "1"}],
            }
        )
    assert sorted(a["coin"] for a in store.account.find({"instType": "COIN-FUTURES"})) == [
        "BTC",
        "USDT",
    ]


# ---------------------------------------------------------------- initialize()

Responder = Callable[[web.Request], Any]


@pytest.fixture
async def rest() -> AsyncIterator[tuple[TestServer, dict[str, Responder]]]:
    """A loopback HTTP server answering each path with routes[path](request)."""
    routes: dict[str, Responder] = {}

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(routes[request.path](request))

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server, routes
    finally:
        await server.close()


def ok(data: Any) -> dict[str, Any]:
    return {"code": "00000", "msg": "success", "requestTime": 1695808949356, "data": data}


def ws_order(inst_type: str, order_id: str, inst_id: str = "BTCUSDT") -> dict[str, Any]:
    return {
        "action": "snapshot",
        "arg": {"instType": inst_type, "channel": "orders", "instId": "default"},
        "data": [{"orderId": order_id, "instId": inst_id, "status": "live"}],
    }


async def test_initialize_mix_orders_replaces_that_product_types_orders(
    rest: tuple[TestServer, dict[str, Responder]],
) -> None:
    server, routes = rest
    seen: list[dict[str, str]] = []

    def pending(request: web.Request) -> Any:
        seen.append(dict(request.query))
        return ok(
            {
                "entrustedList": [
                    {
                        "symbol": "ethusdt",
                        "size": "100",
                        "orderId": "123",
                        "clientOid": "12321",
                        "price": "1900",
                        "status": "partially_filled",
                        "side": "buy",
                    }
                ],
                "endId": "123",
            }
        )

    routes["/api/v2/mix/order/orders-pending"] = pending
    store = BitgetV2DataStore()
    store.onmessage(ws_order("USDT-FUTURES", "stale"))
    store.onmessage(ws_order("SPOT", "spot-1"))
    async with aiohttp.ClientSession() as session:
        await store.initialize(
            session.get(
                server.make_url("/api/v2/mix/order/orders-pending"),
                params={"productType": "usdt-futures"},
            )
        )
    assert seen == [{"productType": "usdt-futures"}]
    orders = {(o["instType"], o["orderId"]): o for o in store.orders.find()}
    assert set(orders) == {("USDT-FUTURES", "123"), ("SPOT", "spot-1")}
    assert orders["USDT-FUTURES", "123"]["instId"] == "ETHUSDT"
    assert orders["USDT-FUTURES", "123"]["price"] == "1900"
    # The WS then updates the seeded order in place.
    store.onmessage(
        {
            "action": "snapshot",
            "arg": {"instType": "USDT-FUTURES", "channel": "orders", "instId": "default"},
            "data": [{"orderId": "123", "instId": "ETHUSDT", "status": "filled"}],
        }
    )
    assert [o["orderId"] for o in store.orders.find()] == ["spot-1"]


async def test_initialize_null_list_and_spot_symbol_scope(
    rest: tuple[TestServer, dict[str, Responder]],
) -> None:
    server, routes = rest
    routes["/api/v2/mix/order/orders-pending"] = lambda r: ok(
        {"entrustedList": None, "endId": None}
    )
    routes["/api/v2/spot/trade/unfilled-orders"] = lambda r: ok(
        [{"symbol": "BTCUSDT", "orderId": "2222222", "status": "new", "priceAvg": "34829.12"}]
    )
    store = BitgetV2DataStore()
    store.onmessage(ws_order("COIN-FUTURES", "gone", "BTCUSD"))
    store.onmessage(ws_order("SPOT", "old-btc", "BTCUSDT"))
    store.onmessage(ws_order("SPOT", "eth", "ETHUSDT"))
    async with aiohttp.ClientSession() as session:
        await store.initialize(
            session.get(
                server.make_url("/api/v2/mix/order/orders-pending"),
                params={"productType": "COIN-FUTURES"},
            ),
            session.get(
                server.make_url("/api/v2/spot/trade/unfilled-orders"), params={"symbol": "BTCUSDT"}
            ),
        )
    assert sorted(o["orderId"] for o in store.orders.find()) == ["2222222", "eth"]
    assert store.orders.get({"instType": "SPOT", "instId": "BTCUSDT", "orderId": "2222222"})


async def test_initialize_positions_until_the_ws_snapshot_replaces_them(
    rest: tuple[TestServer, dict[str, Responder]],
) -> None:
    server, routes = rest
    routes["/api/v2/mix/position/all-position"] = lambda r: ok(
        [
            {"marginCoin": "USDT", "symbol": "BTCUSDT", "holdSide": "long", "total": "0.01"},
            {"marginCoin": "USDT", "symbol": "BTCUSDT", "holdSide": "short", "total": "0.02"},
        ]
    )
    store = BitgetV2DataStore()
    async with aiohttp.ClientSession() as session:
        await store.initialize(
            session.get(
                server.make_url("/api/v2/mix/position/all-position"),
                params={"productType": "USDT-FUTURES", "marginCoin": "USDT"},
            )
        )
    positions = store.positions.find({"instType": "USDT-FUTURES", "instId": "BTCUSDT"})
    assert sorted((p["holdSide"], p["total"], p["posId"]) for p in positions) == [
        ("long", "0.01", "rest:USDT:long"),
        ("short", "0.02", "rest:USDT:short"),
    ]
    store.onmessage(
        {
            "action": "snapshot",
            "arg": {"instType": "USDT-FUTURES", "channel": "positions", "instId": "default"},
            "data": [{"posId": "77", "instId": "BTCUSDT", "holdSide": "long", "total": "0.01"}],
        }
    )
    assert [p["posId"] for p in store.positions.find()] == ["77"]


async def test_initialize_raises_on_exchange_error_code(
    rest: tuple[TestServer, dict[str, Responder]],
) -> None:
    server, routes = rest
    routes["/api/v2/spot/trade/unfilled-orders"] = lambda r: {
        "code": "40009",
        "msg": "sign signature error",
        "data": None,
    }
    store = BitgetV2DataStore()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ExchangeAPIError) as info:
            await store.initialize(
                session.get(server.make_url("/api/v2/spot/trade/unfilled-orders"))
            )
    assert info.value.code == "40009"
    assert info.value.endpoint == "GET /api/v2/spot/trade/unfilled-orders"
    assert "sign signature error" in str(info.value)
    assert "bitget" in str(info.value)


async def test_initialize_rejects_unknown_endpoints_and_missing_product_type(
    rest: tuple[TestServer, dict[str, Responder]],
) -> None:
    server, routes = rest
    routes["/api/v2/mix/market/tickers"] = lambda r: ok([])
    routes["/api/v2/mix/position/all-position"] = lambda r: ok([])
    store = BitgetV2DataStore()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError, match="does not know the endpoint"):
            await store.initialize(session.get(server.make_url("/api/v2/mix/market/tickers")))
        with pytest.raises(ValueError, match="productType"):
            await store.initialize(
                session.get(server.make_url("/api/v2/mix/position/all-position"))
            )
