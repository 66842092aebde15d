"""BitgetDataStore (legacy v1): every channel (replayed from a file), fixes, initialize()."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from datastores import ExchangeAPIError
from datastores.exchanges.bitget.store_v1 import BitgetDataStore

DATA = Path(__file__).parent / "data"


def replay(store: BitgetDataStore, name: str = "v1_stream.jsonl") -> None:
    with open(DATA / name) as f:
        for line in f:
            store.onmessage(json.loads(line))


def test_replay_every_channel() -> None:
    store = BitgetDataStore()
    with store.orders.watch() as orders:
        replay(store)
        order_changes = []
        while (change := orders.get_nowait()) is not None:
            order_changes.append((change.operation, change.data["clOrdId"], change.data["status"]))
    assert store.dropped_messages == 0
    assert store.handler_errors == 0

    # The second snapshot replaced the book: no level of the first survives.
    book = store.orderbook.sorted({"instId": "BTCUSDT"})
    assert [i["px"] for i in book["asks"]] == ["19010.0", "19011.0", "19012.0"]
    assert [i["px"] for i in book["bids"]] == ["19009.0", "19008.0", "19007.0"]
    assert book["asks"][0] == {"instId": "BTCUSDT", "side": "asks", "px": "19010.0", "sz": "1"}
    status = store.orderbook.status("BTCUSDT")
    assert status.synced
    assert status.checksum_failures == 0
    assert status.updates == 4
    assert store.orderbook.timestamp == "1665645128300"
    store.orderbook._check()

    # Equal timestamps never overwrite; the resent snapshot adds only what is new.
    assert [(t["ts"], t["sz"]) for t in store.trade.find({"instId": "BTCUSDT"})] == [
        ("1665645128256", "0.241"),
        ("1665645128256", "0.100"),
        ("1665645128291", "0.016"),
        ("1665645128291", "0.300"),
        ("1665645128291", "0.700"),
        ("1665645128400", "0.001"),
    ]
    assert store.trade.find()[0] == {
        "instId": "BTCUSDT",
        "ts": "1665645128256",
        "px": "18990.5",
        "sz": "0.241",
        "side": "sell",
    }

    assert store.ticker.find({"instId": "BTCUSDT"})[0]["last"] == "44962.00"
    assert sorted((c["interval"], c["ts"]) for c in store.candlesticks.find()) == [
        ("15m", "1665590400000"),
        ("1m", "1639584000000"),
    ]
    one_minute = store.candlesticks.get(
        {"instId": "BTCUSDT", "interval": "1m", "ts": "1639584000000"}
    )
    assert one_minute == {
        "instId": "BTCUSDT",
        "interval": "1m",
        "ts": "1639584000000",
        "o": "8533.02",
        "h": "8553.74",
        "l": "8527.17",
        "c": "8548.26",
        "baseVol": "45247",
    }
    assert store.account.find({"marginCoin": "USDT"})[0]["available"] == "5.4"

    # total "0" (a string) closes the position.
    assert [p["posId"] for p in store.positions.find()] == ["p2"]

    assert order_changes == [
        ("insert", "c1", "new"),
        ("update", "c1", "partial-fill"),
        ("delete", "c1", "partial-fill"),
        ("insert", "c2", "new"),
    ]
    assert [o["ordId"] for o in store.orders.find()] == ["o2"]


def test_checksum_mismatch_is_detected_on_v1_books() -> None:
    store = BitgetDataStore()
    replay(store)
    store.onmessage(
        {
            "action": "update",
            "arg": {"instType": "mc", "channel": "books", "instId": "BTCUSDT"},
            "data": [{"asks": [["19010.0", "2"]], "bids": [], "checksum": 1, "ts": "1"}],
        }
    )
    status = store.orderbook.status("BTCUSDT")
    assert not status.synced
    assert status.checksum_failures == 1
    assert status.resyncs == 1


def test_position_totals_compare_as_numbers_and_junk_is_refused() -> None:
    store = BitgetDataStore()
    arg = {"instType": "UMCBL", "channel": "positions", "instId": "default"}
    store.onmessage({"arg": arg, "data": [{"posId": "a", "instId": "X", "total": "1.5"}]})
    store.onmessage({"arg": arg, "data": [{"posId": "a", "instId": "X", "total": "0.000"}]})
    assert len(store.positions) == 0
    store.onmessage({"arg": arg, "data": [{"posId": "b", "instId": "X", "total": 2}]})
    store.onmessage({"arg": arg, "data": [{"posId": "b", "instId": "X", "total": 0}]})
    assert len(store.positions) == 0
    store.onmessage({"arg": arg, "data": [{"posId": "c", "instId": "X", "total": "n/a"}, 5]})
    assert store.positions.dropped == 2
    assert len(store.positions) == 0


def test_unknown_channels_and_bad_trades_are_counted() -> None:
    store = BitgetDataStore()
    store.onmessage(
        {"arg": {"instType": "UMCBL", "channel": "ordersAlgo", "instId": "default"}, "data": [{}]}
    )
    store.onmessage({"arg": {"instType": "mc", "channel": "trade"}, "data": []})  # no instId
    assert store.dropped_messages == 2
    store.onmessage(
        {
            "action": "update",
            "arg": {"instType": "mc", "channel": "trade", "instId": "BTCUSDT"},
            "data": [["x", "1", "1", "buy"], ["1", "2"], ["5", "1", "1", "buy"]],
        }
    )
    assert store.trade.dropped == 2
    assert [t["ts"] for t in store.trade.find()] == ["5"]


def test_first_trade_snapshot_is_stored_in_time_order() -> None:
    store = BitgetDataStore()
    store.onmessage(
        {
            "action": "snapshot",
            "arg": {"instType": "mc", "channel": "trade", "instId": "ETHUSDT"},
            "data": [["3", "1", "1", "buy"], ["1", "1", "1", "sell"], ["2", "1", "1", "buy"]],
        }
    )
    assert [t["ts"] for t in store.trade.find()] == ["1", "2", "3"]


# ---------------------------------------------------------------- initialize()


@pytest.fixture
async def current_orders() -> AsyncIterator[tuple[TestServer, list[Any]]]:
    bodies: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(bodies.pop(0))

    app = web.Application()
    app.router.add_get("/api/mix/v1/order/current", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server, bodies
    finally:
        await server.close()


async def test_initialize_maps_rest_orders_to_ws_fields_and_replaces_the_symbol(
    current_orders: tuple[TestServer, list[Any]],
) -> None:
    server, bodies = current_orders
    bodies.append(
        {
            "code": "00000",
            "msg": "success",
            "data": [
                {
                    "symbol": "BTCUSDT_UMCBL",
                    "size": 0.05,
                    "orderId": "802382049422487552",
                    "clientOid": "RFIut#1628587479568",
                    "filledQty": 0,
                    "fee": 0,
                    "price": 23999.3,
                    "state": "partially_filled",
                    "side": "open_long",
                    "timeInForce": "normal",
                    "posSide": "long",
                    "marginCoin": "USDT",
                    "orderType": "limit",
                    "cTime": 1627028708807,
                    "uTime": 1627028717807,
                }
            ],
        }
    )
    store = BitgetDataStore()
    orders_arg = {"instType": "UMCBL", "channel": "orders", "instId": "default"}
    for inst_id, cl_ord_id in (("BTCUSDT_UMCBL", "stale"), ("ETHUSDT_UMCBL", "keep")):
        store.onmessage(
            {
                "arg": orders_arg,
                "data": [{"instId": inst_id, "clOrdId": cl_ord_id, "status": "new"}],
            }
        )
    async with aiohttp.ClientSession() as session:
        await store.initialize(
            session.get(
                server.make_url("/api/mix/v1/order/current"),
                params={"symbol": "BTCUSDT_UMCBL", "marginCoin": "USDT"},
            )
        )
    assert sorted(o["clOrdId"] for o in store.orders.find()) == ["RFIut#1628587479568", "keep"]
    assert store.orders.get({"instId": "BTCUSDT_UMCBL", "clOrdId": "RFIut#1628587479568"}) == {
        "accFillSz": "0",
        "cTime": "1627028708807",
        "clOrdId": "RFIut#1628587479568",
        "force": "normal",
        "instId": "BTCUSDT_UMCBL",
        "ordId": "802382049422487552",
        "ordType": "limit",
        "posSide": "long",
        "px": "23999.3",
        "side": "buy",
        "status": "partial-fill",
        "sz": "0.05",
        "tgtCcy": "USDT",
        "uTime": "1627028717807",
    }
    store.onmessage(
        {
            "arg": orders_arg,
            "data": [
                {
                    "instId": "BTCUSDT_UMCBL",
                    "clOrdId": "RFIut#1628587479568",
                    "status": "full-fill",
                }
            ],
        }
    )
    assert [o["clOrdId"] for o in store.orders.find()] == ["keep"]


async def test_initialize_error_code_raises_exchange_api_error(
    current_orders: tuple[TestServer, list[Any]],
) -> None:
    server, bodies = current_orders
    bodies.append({"code": "40017", "msg": "Parameter verification failed", "data": None})
    store = BitgetDataStore()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ExchangeAPIError, match="40017") as info:
            await store.initialize(session.get(server.make_url("/api/mix/v1/order/current")))
    assert info.value.endpoint == "GET /api/mix/v1/order/current"
    assert info.value.message == "Parameter verification failed"
