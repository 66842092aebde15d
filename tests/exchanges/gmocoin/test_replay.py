"""GMO Coin's documented message shapes through the real handler: the final state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from datastores import DataStoreCollection
from datastores.exchanges.gmocoin._rest import GMOCoinResponseError
from datastores.exchanges.gmocoin._stores import timestamp_ms
from datastores.exchanges.gmocoin.store import GMOCoinDataStore

DATA = Path(__file__).parent / "data"


def messages(name: str) -> list[Any]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line]


def replay(name: str) -> GMOCoinDataStore:
    store = GMOCoinDataStore()
    for message in messages(name):
        store.onmessage(message)
        store.orderbooks._check()
    return store


def test_public_channels_fill_their_stores() -> None:
    store = replay("public.jsonl")
    # Each orderbooks frame replaces the book: the first frame's extra levels are gone.
    assert store.orderbooks.sorted({"symbol": "BTC"}) == {
        "asks": [
            {"symbol": "BTC", "side": "asks", "price": "455660", "size": "0.2"},
            {"symbol": "BTC", "side": "asks", "price": "455700", "size": "1.5"},
        ],
        "bids": [
            {"symbol": "BTC", "side": "bids", "price": "455658", "size": "0.3"},
            {"symbol": "BTC", "side": "bids", "price": "455500", "size": "2"},
        ],
    }
    status = store.orderbooks.status("BTC")
    assert status.synced
    assert status.last_update_id == timestamp_ms("2018-03-30T12:34:57.294Z") == 1522413297294
    assert store.orderbooks.timestamps == {
        "BTC": "2018-03-30T12:34:57.294Z",
        "BTC_JPY": "2024-01-01T00:00:00.000Z",
    }
    assert store.orderbooks.timestamp == "2024-01-01T00:00:00.000Z"
    assert len(store.orderbooks) == 8
    assert [t["price"] for t in store.trades] == ["750760", "6000100"]
    assert store.ticker.get({"symbol": "BTC"})["last"] == "750750"  # type: ignore[index]
    assert len(store.ticker) == 2
    stats = store.statistics()
    assert (stats.dropped, stats.unhandled, stats.handler_errors) == ({}, {}, 0)


def test_private_events_fill_orders_executions_and_positions() -> None:
    store = replay("private.jsonl")
    # 123456789: partly filled, then cancelled; 123456790: filled ("0.010" == "0.01").
    assert store.orders.find() == []
    assert sorted(e["executionId"] for e in store.executions) == [72123911, 72123912]
    assert [p["positionId"] for p in store.positions] == [1234567]
    position = store.positions.get({"positionId": 1234567})
    assert position is not None
    assert (position["losscutPrice"], position["msgType"]) == ("760000", "ULR")
    summary = store.position_summary.get({"symbol": "BTC_JPY", "side": "BUY"})
    assert summary is not None
    assert summary["sumPositionQuantity"] == "0.3"
    assert store.statistics().dropped == {}


def test_a_partial_fill_keeps_the_order_with_its_executed_size() -> None:
    store = GMOCoinDataStore()
    events = messages("private.jsonl")
    store.onmessage(events[0])
    store.onmessage(events[2])  # 0.3 of 0.8
    order = store.orders.get({"orderId": 123456789})
    assert order is not None
    assert (order["orderExecutedSize"], order["orderStatus"]) == ("0.3", "ORDERED")
    # An orderEvents ER for a partial fill (unconfirmed that GMO Coin sends one) keeps it.
    store.onmessage({**events[0], "msgType": "ER", "orderExecutedSize": "0.5"})
    order = store.orders.get({"orderId": 123456789})
    assert order is not None
    assert order["orderExecutedSize"] == "0.5"
    store.onmessage({**events[0], "msgType": "ER", "orderExecutedSize": "0.80"})
    assert store.orders.get({"orderId": 123456789}) is None


def test_an_execution_of_an_unknown_order_records_what_the_fill_tells() -> None:
    store = GMOCoinDataStore()
    store.onmessage(messages("private.jsonl")[2])
    order = store.orders.get({"orderId": 123456789})
    assert order is not None
    assert (order["orderSize"], order["orderExecutedSize"], order["side"]) == ("0.8", "0.3", "BUY")


def test_a_crossed_or_unreadable_frame_unsyncs_the_book_until_the_next_good_one() -> None:
    store = GMOCoinDataStore()
    good = messages("public.jsonl")[1]
    store.onmessage(good)
    crossed = {**good, "bids": [{"price": "455700", "size": "1"}]}
    store.onmessage(crossed)
    status = store.orderbooks.status("BTC")
    assert not status.synced
    assert status.errors == 1
    assert status.last_error is not None
    assert "crossed" in status.last_error
    store.onmessage({**good, "asks": "oops"})
    store.onmessage({**good, "bids": [{"price": 1, "size": "1"}]})
    assert store.orderbooks.status("BTC").errors == 3
    store.onmessage(good)
    assert store.orderbooks.is_synced("BTC")
    store.orderbooks._check()
    assert store.statistics().dropped == {"orderbooks frame refused by the book": 3}


def test_errors_unknown_channels_and_junk_are_counted_never_raised() -> None:
    store = GMOCoinDataStore()
    store.onmessage({"error": "ERR-5003 Request too many."})
    store.onmessage({"error": "ERR-5106 Invalid request parameter. symbol"})
    store.onmessage({"channel": "kline", "symbol": "BTC"})
    store.onmessage({"channel": "orderbooks"})
    store.onmessage({"channel": "orderEvents", "orderId": [1]})
    store.onmessage([1, 2])
    stats = DataStoreCollection.statistics(store)
    assert stats.unhandled == {"error ERR-5003": 1, "error ERR-5106": 1, "kline": 1}
    assert stats.dropped == {
        "orderbooks frame without a symbol": 1,
        "order event without orderId": 1,
        "message is not an object": 1,
    }
    assert stats.handler_errors == 0


def test_a_reconnect_unsyncs_the_books_its_connection_fed() -> None:
    store = GMOCoinDataStore()
    public, other = object(), object()
    frames = messages("public.jsonl")
    store.onmessage(frames[1], public)
    store.onmessage(frames[4], other)
    store.on_reconnect(public)
    assert not store.orderbooks.is_synced("BTC")
    assert store.orderbooks.is_synced("BTC_JPY")
    last_error = store.orderbooks.status("BTC").last_error
    assert last_error is not None
    assert "paced resubscription" in last_error
    store.onmessage(frames[3], public)
    assert store.orderbooks.is_synced("BTC")


class _Response:
    def __init__(self, method: str, url: str, data: Any) -> None:
        self.method = method
        self.url = URL(url)
        self.status = 200
        self.headers: dict[str, str] = {}
        self._data = data

    async def read(self) -> bytes:
        return json.dumps(self._data).encode()

    def release(self) -> None:
        pass


def ok(items: list[Any]) -> dict[str, Any]:
    return {"status": 0, "data": {"list": items}, "responsetime": "2019-03-19T02:15:06.102Z"}


async def test_initialize_replaces_orders_and_positions_of_the_symbol() -> None:
    store = GMOCoinDataStore()
    events = messages("private.jsonl")
    store.onmessage(events[0])  # BTC_JPY order 123456789
    store.onmessage(events[1])  # BTC order 123456790
    order = {k: v for k, v in events[0].items() if k != "channel"} | {"orderId": 5}
    position = {k: v for k, v in events[3].items() if k != "channel"} | {"positionId": 9}
    base = "https://api.coin.z.com/private/v1"
    await store.initialize(
        _Response("GET", f"{base}/activeOrders?symbol=BTC_JPY", ok([order])),  # type: ignore[arg-type]
        _Response("GET", f"{base}/openPositions?symbol=BTC_JPY", ok([position])),  # type: ignore[arg-type]
        _Response("GET", f"{base}/positionSummary", ok([])),  # type: ignore[arg-type]
        _Response("GET", f"{base}/latestExecutions?symbol=BTC", ok([events[5]])),  # type: ignore[arg-type]
    )
    assert sorted(o["orderId"] for o in store.orders) == [5, 123456790]
    assert [p["positionId"] for p in store.positions] == [9]
    assert [e["executionId"] for e in store.executions] == [72123912]
    refused = {"status": 1, "messages": [{"message_code": "ERR-5201", "message_string": "MAINT"}]}
    with pytest.raises(ValueError, match="ERR-5201") as caught:
        await store.initialize(_Response("GET", f"{base}/activeOrders", refused))  # type: ignore[arg-type]
    assert isinstance(caught.value, GMOCoinResponseError)
    assert caught.value.code == "ERR-5201"
    with pytest.raises(ValueError, match="does not know"):
        await store.initialize(_Response("GET", f"{base}/account/assets", ok([])))  # type: ignore[arg-type]


async def test_initialize_with_a_token_keeps_it() -> None:
    store = GMOCoinDataStore()
    answer = {"status": 0, "data": "xxxxxxxxxxxxxxxxxxxxxxxxxxxx", "responsetime": "x"}
    await store.initialize(_Response("POST", "https://api.coin.z.com/private/v1/ws-auth", answer))  # type: ignore[arg-type]
    assert store.token == "xxxxxxxxxxxxxxxxxxxxxxxxxxxx"
