"""BitMEXDataStore fed with documented message shapes (``data/``): every store's final
state, the orderBookL2 table rules and what is dropped or counted."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

from _contract import ContractWS, load_messages

from datastores import BitMEXDataStore
from datastores.exchanges.bitmex.store import BitMEXDataStore as Direct

DATA = Path(__file__).parent / "data"
URL = "wss://ws.bitmex.com/realtime"


def feed(store: BitMEXDataStore, messages: list[Any], ws: Any = None) -> ContractWS:
    ws = ws or ContractWS(URL)
    for message in messages:
        store.onmessage(copy.deepcopy(message), ws)
        store.orderbook._check()
    return ws


def l2(action: str, *rows: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"table": "orderBookL2", "action": action, "data": list(rows), **extra}


def row(
    ident: int, side: str, size: int | None = None, price: float | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {"symbol": "XBTUSD", "id": ident, "side": side}
    if size is not None:
        found["size"] = size
    if price is not None:
        found["price"] = price
    return found


PARTIAL = l2(
    "partial",
    row(1, "Sell", 10, 101.0),
    row(2, "Sell", 20, 100.5),
    row(3, "Buy", 30, 100.0),
    row(4, "Buy", 40, 99.5),
    keys=["symbol", "id", "side"],
    filter={"symbol": "XBTUSD"},
)


def test_lazy_export_is_the_class() -> None:
    assert BitMEXDataStore is Direct


def test_public_replay_final_state() -> None:
    store = BitMEXDataStore()
    feed(store, load_messages(DATA / "public.jsonl"))
    book = store.orderbook
    xbt = book.sorted({"symbol": "XBTUSD"})
    assert [(i["price"], i["size"], i["id"]) for i in xbt["Sell"]] == [
        (65000.5, 1100, 8793499950),
        (65001.0, 2500, 8793499900),
        (65001.5, 700, 8793499850),
    ]
    assert [(i["price"], i["size"]) for i in xbt["Buy"]] == [
        (65000.0, 650),
        (64999.5, 7000),
        (64998.5, 900),
    ]
    # An update without price kept the row's price and its other fields.
    top_bid = xbt["Buy"][0]
    assert top_bid == {
        "symbol": "XBTUSD",
        "id": 8793500000,
        "side": "Buy",
        "size": 650,
        "price": 65000.0,
        "timestamp": "2026-01-01T00:00:00.100Z",
        "transactTime": "2026-01-01T00:00:00.099Z",
    }
    assert book.get({"symbol": "XBTUSD", "id": 8793499950, "side": "Sell"})["size"] == 1100  # type: ignore[index]
    assert book.get({"symbol": "XBTUSD", "id": 8793500100, "side": "Buy"}) is None
    eth = book.sorted({"symbol": "ETHUSD"})
    assert [(i["price"], i["size"]) for i in eth["Buy"]] == [(3200.0, 22)]
    status = book.status("XBTUSD")
    assert status.synced
    assert not status.verifiable
    assert status.last_update_id == 5  # messages applied since the partial
    assert (status.gaps, status.errors) == (0, 0)
    image = store.orderbook10.get({"symbol": "XBTUSD"})
    assert image is not None
    assert image["bids"][0] == [65000.0, 650]
    assert len(image["asks"]) == 3
    assert [t["size"] for t in store.trade.find()] == [100, 250]
    assert [q["bidSize"] for q in store.quote.find()] == [500, 650]
    instrument = store.instrument.get({"symbol": "XBTUSD"})
    assert instrument is not None
    assert instrument["lastPrice"] == 64999.0
    assert instrument["tickSize"] == 0.5
    assert len(store.tradebin1m) == 2
    assert store["tradeBin1m"] is store.tradebin1m
    # An unknown table gets a store of its own, keyed by the partial's keys.
    assert store["settlement"].keys == ("symbol", "timestamp")
    assert len(store["settlement"]) == 1
    assert store.failed_requests == 1
    stats = store.statistics()
    assert stats.dropped == {}
    assert stats.unhandled == {}
    assert stats.handler_errors == 0


def test_private_replay_final_state() -> None:
    store = BitMEXDataStore()
    feed(store, load_messages(DATA / "private.jsonl"))
    # The filled order left the store; the resting one stays.
    assert [o["clOrdID"] for o in store.order.find()] == ["resting"]
    assert [e["execType"] for e in store.execution.find()] == ["Trade"]
    position = store.position.get({"account": 123456, "symbol": "XBTUSD"})
    assert position is not None
    assert position["currentQty"] == -200
    margin = store.margin.get({"account": 123456, "currency": "XBt"})
    assert margin is not None
    assert margin["availableMargin"] == 99700000
    assert margin["walletBalance"] == 100000000
    wallet = store.wallet.get({"account": 123456, "currency": "XBt"})
    assert wallet is not None
    assert wallet["amount"] == 99999885
    assert store.statistics().dropped == {}


def test_partial_replaces_the_symbols_table() -> None:
    # The incumbent kept rows of the old table after a re-partial.
    store = BitMEXDataStore()
    feed(store, [PARTIAL, l2("insert", row(5, "Sell", 50, 102.0))])
    again = l2(
        "partial", row(2, "Sell", 21, 100.5), row(3, "Buy", 31, 100.0), filter={"symbol": "XBTUSD"}
    )
    feed(store, [again])
    levels = store.orderbook.sorted({"symbol": "XBTUSD"})
    assert [(i["id"], i["size"]) for i in levels["Sell"]] == [(2, 21)]
    assert [(i["id"], i["size"]) for i in levels["Buy"]] == [(3, 31)]
    assert store.orderbook.get({"symbol": "XBTUSD", "id": 5, "side": "Sell"}) is None
    # An empty partial empties the book.
    feed(store, [l2("partial", filter={"symbol": "XBTUSD"})])
    assert store.orderbook.sorted({"symbol": "XBTUSD"}) == {"Sell": [], "Buy": []}
    assert store.orderbook.is_synced("XBTUSD")


def test_a_partial_without_filter_replaces_every_symbol_it_names() -> None:
    store = BitMEXDataStore()
    eth = {"symbol": "ETHUSD", "id": 9, "side": "Buy", "size": 1, "price": 3000.0}
    feed(store, [l2("partial", row(1, "Sell", 10, 101.0), eth)])
    assert store.orderbook.is_synced("XBTUSD")
    assert store.orderbook.is_synced("ETHUSD")
    assert len(store.orderbook) == 2


def test_update_with_a_new_price_moves_the_row() -> None:
    store = BitMEXDataStore()
    feed(store, [PARTIAL, l2("update", row(1, "Sell", 11, 102.0))])
    asks = store.orderbook.sorted({"symbol": "XBTUSD"})["Sell"]
    assert [(i["id"], i["price"], i["size"]) for i in asks] == [(2, 100.5, 20), (1, 102.0, 11)]


async def test_unknown_rows_mark_the_table_corrupt_and_resubscribe() -> None:
    for bad in (
        l2("update", row(77, "Buy", 5)),
        l2("delete", row(77, "Sell")),
        l2("insert", row(3, "Buy", 5, 100.0)),  # already in the table: a delete was lost
        l2("insert", row(78, "Buy", 5, 100.0)),  # at the price row 3 holds
        l2("update", row(3, "Sell", 5)),  # the right id on the wrong side
    ):
        store = BitMEXDataStore()
        ws = feed(store, [PARTIAL])
        before = store.orderbook.sorted({"symbol": "XBTUSD"})
        feed(store, [bad], ws)
        status = store.orderbook.status("XBTUSD")
        assert not status.synced, bad
        assert status.gaps == 1, bad
        assert "corrupt" in (status.last_error or "")
        assert store.orderbook.sorted({"symbol": "XBTUSD"}) == before  # nothing half-applied
        # Further messages wait for the new partial (counted, not applied).
        feed(store, [l2("update", row(3, "Buy", 1))], ws)
        assert store.orderbook.dropped_unsynced("XBTUSD") == 1
        for _ in range(5):
            await asyncio.sleep(0)
        assert ws.sent == [
            {"op": "unsubscribe", "args": ["orderBookL2:XBTUSD"]},
            {"op": "subscribe", "args": ["orderBookL2:XBTUSD"]},
        ]
        feed(store, [PARTIAL], ws)
        assert store.orderbook.is_synced("XBTUSD")
        assert store.orderbook.status("XBTUSD").resyncs == 1
        assert store._resubscribe.awaiting_snapshot == frozenset()
        await store.aclose()


def test_malformed_rows_unsync_the_book_and_are_counted() -> None:
    store = BitMEXDataStore()
    feed(store, [PARTIAL])
    feed(store, [l2("update", row(3, "Buy", "many"))])  # type: ignore[arg-type]
    status = store.orderbook.status("XBTUSD")
    assert not status.synced
    assert status.errors == 1
    assert store.statistics().dropped == {"orderBookL2: malformed update": 1}
    feed(
        store,
        [l2("partial", {"symbol": "XBTUSD", "id": 1, "side": "Sell"}, filter={"symbol": "XBTUSD"})],
    )
    assert not store.orderbook.is_synced("XBTUSD")
    assert store.statistics().dropped["orderBookL2: malformed partial"] == 1


def test_rows_before_the_partial_are_ignored_and_counted() -> None:
    store = BitMEXDataStore()
    feed(store, [l2("insert", row(1, "Sell", 1, 101.0))])
    assert len(store.orderbook) == 0
    assert store.orderbook.dropped_unsynced("XBTUSD") == 1
    assert not store.orderbook.is_synced("XBTUSD")


def test_reconnect_unsyncs_the_books_of_that_connection() -> None:
    store = BitMEXDataStore()
    ws = feed(store, [PARTIAL])
    other = ContractWS("wss://ws.bitmex.com/realtime?other")
    eth = l2(
        "partial",
        {"symbol": "ETHUSD", "id": 9, "side": "Buy", "size": 1, "price": 3000.0},
        filter={"symbol": "ETHUSD"},
    )
    feed(store, [eth], other)
    store.on_reconnect(other)
    assert store.orderbook.is_synced("XBTUSD")
    assert not store.orderbook.is_synced("ETHUSD")
    store.on_reconnect(ws)
    assert not store.orderbook.is_synced("XBTUSD")
    assert ws.sent == []  # the app resubscribes by itself after a reconnect


def test_unknown_and_junk_messages_are_counted_never_raised() -> None:
    store = BitMEXDataStore()
    feed(
        store,
        [
            {"table": "brandNew", "action": "insert", "data": [{"x": 1}]},  # no partial first
            {"hello": "world"},
            {"table": "trade", "action": "insert", "data": "x"},
            {"table": "trade", "action": "wobble", "data": []},
            [1, 2, 3],
        ],
    )
    stats = store.statistics()
    assert stats.unhandled == {"brandNew": 1, "<no table>": 1}
    assert stats.dropped == {
        "trade: data is not a list": 1,
        "trade: unknown action": 1,
        "not a JSON object": 1,
    }
    assert store.handler_errors == 0
    assert store.dropped_messages == 3


def test_no_row_cap_drops_live_levels() -> None:
    # The incumbent evicted rows beyond 9,999 and later failed on rows without price.
    store = BitMEXDataStore()
    rows = [row(i, "Sell", 1, 1000.0 + i) for i in range(12_000)]
    rows += [row(20_000 + i, "Buy", 1, 999.0 - i * 0.01) for i in range(3_000)]
    feed(store, [l2("partial", *rows, filter={"symbol": "XBTUSD"})])
    feed(store, [l2("update", *[row(i, "Sell", 2) for i in range(0, 12_000, 1000)])])
    assert len(store.orderbook) == 15_000
    assert store.orderbook.is_synced("XBTUSD")
    asks = store.orderbook.sorted({"symbol": "XBTUSD"})["Sell"]
    assert all("price" in a for a in asks)
    assert asks[0]["size"] == 2


async def test_initialize_from_rest_rows() -> None:
    class Response:
        method = "GET"
        status = 200

        def __init__(self, path: str) -> None:
            from yarl import URL

            self.url = URL("https://www.bitmex.com" + path)

    store = BitMEXDataStore()
    orders = [
        {"orderID": "a", "ordStatus": "New", "symbol": "XBTUSD"},
        {"orderID": "b", "ordStatus": "Filled", "symbol": "XBTUSD"},
    ]
    await store._apply_response(Response("/api/v1/order"), orders)
    await store._apply_response(
        Response("/api/v1/user/margin"), {"account": 1, "currency": "XBt", "amount": 5}
    )
    await store._apply_response(Response("/api/v1/position"), [{"account": 1, "symbol": "XBTUSD"}])
    assert [o["orderID"] for o in store.order.find()] == ["a"]
    assert store.margin.get({"account": 1, "currency": "XBt"}) is not None
    assert len(store.position) == 1


def test_books_with_a_sequence_rule_stay_verifiable() -> None:
    from datastores.exchanges.bybit.store import BybitDataStore

    assert BybitDataStore().orderbook.status("BTCUSDT").verifiable
    assert not BitMEXDataStore().orderbook.status("XBTUSD").verifiable
