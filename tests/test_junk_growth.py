"""Junk input never grows memory without bound (issue 15 point 11).

Unknown channel/topic/table names may make at most ``max_dynamic_stores`` stores;
new symbols beyond a book's ``max_symbols`` are refused before anything is made
for them. Both are counted in ``statistics().dropped`` and logged at WARNING a
handful of times at most. Every table the collection keeps (its own, its books',
its recoveries') stays at the cap, and memory stops growing once it is reached.
"""

from __future__ import annotations

import gc
import logging
import tracemalloc
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from datastores import (
    BinanceSpotDataStore,
    BinanceUSDSMDataStore,
    BitgetDataStore,
    BitgetV2DataStore,
    BitMEXDataStore,
    BybitDataStore,
    CoincheckDataStore,
    DataStoreCollection,
    GMOCoinDataStore,
    HyperliquidDataStore,
    KuCoinDataStore,
    OKXDataStore,
    OrderBookStore,
    PhemexDataStore,
    bitbankDataStore,
    bitFlyerDataStore,
)

CAP = 300
JUNK = 20_000
#: bytes the second, larger half of the junk may add (nothing is kept for it)
GROWTH_BOUND = 256 * 1024


def tables(root: object, depth: int = 4) -> Iterator[tuple[str, int]]:
    """``(path, size)`` of every dict, set, list or deque reachable from ``root``
    through instance attributes (``depth`` levels), stores' own data excluded."""
    seen: set[int] = set()

    def walk(obj: object, path: str, level: int) -> Iterator[tuple[str, int]]:
        if id(obj) in seen or level > depth:
            return
        seen.add(id(obj))
        if isinstance(obj, dict | set | frozenset | list | deque):
            yield path, len(obj)
            values = obj.values() if isinstance(obj, dict) else obj
            if len(obj) <= 64:
                for i, value in enumerate(values):
                    yield from walk(value, f"{path}[{i}]", level + 1)
            return
        attributes = getattr(obj, "__dict__", None)
        if attributes is None or obj.__class__.__module__.startswith(("asyncio", "logging")):
            return
        for name, value in attributes.items():
            if not callable(value) or isinstance(value, dict | set | list | deque):
                yield from walk(value, f"{path}.{name}", level + 1)
        for name in getattr(type(obj), "__slots__", ()):
            if hasattr(obj, name):
                yield from walk(getattr(obj, name), f"{path}.{name}", level + 1)

    yield from walk(root, "store", 0)


#: routing caches keyed by topic/channel name, bounded by their own cap (4096)
ROUTE_CACHES = ("._routes", "._topic_args", "._channel_handlers", "._partial_streams")


def largest_table(store: DataStoreCollection) -> tuple[str, int]:
    """The largest table but the routing caches (asserted at their own cap)."""
    for name, size in tables(store):
        if name.endswith(ROUTE_CACHES):
            assert size <= 4096, f"{name} holds {size} entries"
    entries = [e for e in tables(store) if not e[0].endswith(ROUTE_CACHES)]
    return max(entries, key=lambda entry: entry[1])


def feed_junk(
    store: DataStoreCollection, message: Callable[[int], Any], caplog: pytest.LogCaptureFixture
) -> int:
    """Feed ``JUNK`` messages (the second half under tracemalloc); returns the bytes
    the second half kept."""
    return feed_junk_many(store, lambda i: (message(i),), caplog)


def feed_junk_many(
    store: DataStoreCollection,
    messages: Callable[[int], tuple[Any, ...]],
    caplog: pytest.LogCaptureFixture,
) -> int:
    """:func:`feed_junk` with several messages per junk index."""
    with caplog.at_level(logging.WARNING):  # DEBUG records would be kept by pytest
        for i in range(JUNK // 2):
            for msg in messages(i):
                store.onmessage(msg)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for i in range(JUNK // 2, JUNK):
                for msg in messages(i):
                    store.onmessage(msg)
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    return after - before


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.fixture(autouse=True)
def _cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented way to set the cap for every book and feed table."""
    monkeypatch.setattr(OrderBookStore, "max_symbols", CAP)


def assert_symbols_bounded(
    store: DataStoreCollection,
    book: OrderBookStore[Any],
    grown: int,
    caplog: Any,
    bound: int = GROWTH_BOUND,
) -> None:
    assert len(book.symbols) == CAP
    assert book.symbols_refused >= JUNK - CAP
    reason = f"{book.name}: new symbol beyond max_symbols"
    assert store.statistics().dropped[reason] == book.symbols_refused
    name, size = largest_table(store)
    assert size <= CAP + 16, f"{name} holds {size} entries"
    assert grown < bound
    assert len(warnings_of(caplog)) <= 5, warnings_of(caplog)
    for symbol in book.symbols[:3]:  # the admitted symbols keep working
        assert book.status(symbol).symbol == symbol


# ---------------------------------------------------------------- stores made on the fly


def test_bybit_unknown_topic_prefixes_make_at_most_the_cap_of_stores(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = BybitDataStore()
    declared = len(store.stores)
    grown = feed_junk(
        store, lambda i: {"topic": f"junk{i}.BTCUSDT", "ts": 1, "data": {"n": i}}, caplog
    )
    assert len(store.stores) == declared + store.max_dynamic_stores
    dropped = store.statistics().dropped["too many stores made on the fly (max_dynamic_stores)"]
    assert dropped == JUNK - store.max_dynamic_stores
    assert store["junk0"].find() == [{"n": 0}]
    assert "junk70" not in store
    name, size = largest_table(store)
    assert size <= 2 * store.max_dynamic_stores, f"{name} holds {size} entries"
    assert grown < GROWTH_BOUND
    assert len(warnings_of(caplog)) <= 3, warnings_of(caplog)


def test_okx_books_channel_names_make_at_most_the_cap_of_book_stores(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = OKXDataStore()
    declared = len(store.stores)

    def message(i: int) -> dict[str, Any]:
        # a new books* name each time, for an instrument `books` already feeds: each
        # would need a book store of its own
        arg = {"channel": "books" if i == 0 else f"books-junk{i}", "instId": "BTC-USDT"}
        item = {"asks": [["2", "1", "0", "1"]], "bids": [], "ts": "1", "seqId": i, "prevSeqId": -1}
        return {"arg": arg, "action": "snapshot", "data": [item]}

    grown = feed_junk(store, message, caplog)
    assert len(store.stores) <= declared + store.max_dynamic_stores
    assert len(store.books_by_channel) <= store.max_dynamic_stores
    dropped = store.statistics().dropped["too many stores made on the fly (max_dynamic_stores)"]
    assert dropped == JUNK - 1 - store.max_dynamic_stores
    assert store.books.is_synced("BTC-USDT")
    name, size = largest_table(store)
    assert size <= 2 * store.max_dynamic_stores, f"{name} holds {size} entries"
    assert grown < GROWTH_BOUND
    assert len(warnings_of(caplog)) <= 3, warnings_of(caplog)


def test_the_dynamic_store_cap_is_settable() -> None:
    store = BybitDataStore()
    store.max_dynamic_stores = 2
    for i in range(5):
        store.onmessage({"topic": f"junk{i}.X", "ts": 1, "data": {"n": i}})
    assert [n for n in store if n.startswith("junk")] == ["junk0", "junk1"]
    assert store.statistics().dropped == {"too many stores made on the fly (max_dynamic_stores)": 3}


# ----------------------------------------------------------------------- junk symbols


def test_binance_junk_symbols_stop_at_max_symbols(caplog: pytest.LogCaptureFixture) -> None:
    store = BinanceSpotDataStore()
    grown = feed_junk(
        store,
        lambda i: {"e": "depthUpdate", "E": 1, "s": f"J{i}", "U": 1, "u": 1, "b": [], "a": []},
        caplog,
    )
    assert_symbols_bounded(store, store.orderbook, grown, caplog)
    assert len(store._recovery.pending) == CAP  # waiting for a Client, bounded too


def test_okx_junk_instruments_stop_at_max_symbols(caplog: pytest.LogCaptureFixture) -> None:
    store = OKXDataStore()

    def message(i: int) -> dict[str, Any]:
        item = {"asks": [["2", "1", "0", "1"]], "bids": [], "ts": "1", "seqId": 1, "prevSeqId": -1}
        return {
            "arg": {"channel": "books", "instId": f"J-{i}"},
            "action": "snapshot",
            "data": [item],
        }

    grown = feed_junk(store, message, caplog)
    assert_symbols_bounded(store, store.books, grown, caplog)
    assert len(store.books.ts) == CAP


def test_bybit_junk_symbols_stop_at_max_symbols(caplog: pytest.LogCaptureFixture) -> None:
    store = BybitDataStore()

    def message(i: int) -> dict[str, Any]:
        data = {"s": f"J{i}", "b": [["1", "1"]], "a": [], "u": 1, "seq": 1}
        return {"topic": f"orderbook.50.J{i}", "type": "snapshot", "ts": 1, "data": data}

    grown = feed_junk(store, message, caplog)
    # one topic per symbol: the topic route cache (at most 4096 entries, cleared when
    # full) may be fuller at the end than at the middle
    assert_symbols_bounded(store, store.orderbook, grown, caplog, GROWTH_BOUND + 4096 * 256)


def test_kucoin_junk_symbols_stop_at_max_symbols(caplog: pytest.LogCaptureFixture) -> None:
    store = KuCoinDataStore()

    def message(i: int) -> dict[str, Any]:
        changes = {"asks": [["2", "1", "5"]], "bids": []}
        data = {"changes": changes, "sequenceStart": 5, "sequenceEnd": 5, "symbol": f"J-{i}"}
        return {"type": "message", "topic": f"/market/level2:J-{i}", "data": data}

    grown = feed_junk(store, message, caplog)
    assert_symbols_bounded(store, store.orderbook, grown, caplog)


def test_a_refused_symbol_leaves_no_trace_and_a_raised_cap_admits_it() -> None:
    store = BinanceSpotDataStore()
    store.orderbook.max_symbols = 1
    calls: list[str] = []
    store.orderbook.resync_hook = calls.append
    store.onmessage({"e": "depthUpdate", "E": 1, "s": "A", "U": 1, "u": 1, "b": [], "a": []})
    store.onmessage({"e": "depthUpdate", "E": 1, "s": "B", "U": 1, "u": 1, "b": [], "a": []})
    book = store.orderbook
    assert book.symbols == ["A"]
    assert calls == ["A"]  # no resync for the refused symbol
    assert book.status("B").resyncs == 0
    assert book.status("B").errors == 0
    assert book.symbols_refused == 1
    assert book.dropped == 1
    book.set_depth("A", 5)
    book.set_depth("C", 5)  # a depth cap for a new symbol is refused too
    assert book.symbols_refused == 2
    book.max_symbols = 2
    book._replace("B", [["2", "1"]], [["1", "1"]], 7)
    assert book.is_synced("B")
    assert sorted(book.symbols) == ["A", "B"]


def test_keyed_plain_stores_keep_at_most_maxlen_junk_symbols() -> None:
    """Tickers keyed by junk symbols: a keyed store keeps its newest ``_MAXLEN``
    items (the oldest leave first, as in the reference library), so junk symbols
    cannot grow it further; no separate cap is needed."""
    store = BybitDataStore()
    maxlen = store.ticker._MAXLEN
    for i in range(maxlen + 2000):
        data = {"symbol": f"J{i}", "lastPrice": "1"}
        store.onmessage({"topic": f"tickers.J{i}", "type": "snapshot", "ts": 1, "data": data})
    assert len(store.ticker) == maxlen
    assert store.ticker.get({"symbol": f"J{maxlen + 1999}"}) is not None
    assert store.ticker.get({"symbol": "J0"}) is None


# ------------------------------------------- every other exchange's own per-symbol tables
#
# Each case sends, per junk index, the messages that reach the tables the exchange keeps
# itself (next to its book's): a snapshot/whole for one junk symbol and an update, a diff
# or a trade for another (an update before any snapshot is where most tables were
# written). Every table reachable from the collection must stay at the cap. Keyed plain
# stores (tickers) are left out: they keep their newest _MAXLEN items (tested above).


def _bitbank(i: int) -> tuple[Any, ...]:
    def room(name: str, data: dict[str, Any]) -> list[Any]:
        return ["message", {"room_name": name, "message": {"data": data}}]

    whole = {"asks": [["2", "1"]], "bids": [["1", "1"]], "timestamp": 1, "sequenceId": "3"}
    diff = {"a": [["2", "2"]], "b": [], "t": 1, "s": "5"}
    return (
        room(f"depth_whole_j{i}_jpy", whole),
        room(f"depth_diff_j{i}_jpy", diff),
        room(f"depth_diff_k{i}_jpy", diff),  # before any whole: kept for its replay
        room(f"depth_diff_u{i}_jpy", {"a": "junk", "s": "7"}),  # unreadable: lost
        room(f"depth_diff_n{i}_jpy", {"a": []}),  # no s at all
    )


def _bitmex(i: int) -> tuple[Any, ...]:
    row = {"symbol": f"J{i}", "id": 1, "side": "Sell", "size": 1, "price": 2.0}
    return (
        {"table": "orderBookL2", "action": "partial", "filter": {"symbol": f"J{i}"},
         "keys": ["symbol", "id", "side"], "data": [row]},
        {"table": "orderBookL2", "action": "update", "data": [{**row, "symbol": f"K{i}"}]},
        {"table": "orderBookL2_25", "action": "insert", "data": [{**row, "symbol": f"L{i}"}]},
    )  # fmt: skip


def _coincheck(i: int) -> tuple[Any, ...]:
    legacy = {"bids": [["1", "1"]], "asks": [["2", "1"]], "last_update_at": "1"}
    row = {"rate": "2", "ask_amount": "1", "bid_amount": "0"}
    sequenced = {"sequence_number": 5, "upper": [row], "lower": [], "last_update_at": "1"}
    return ([f"j{i}_jpy", legacy], [f"k{i}_jpy", sequenced])


def _phemex(i: int) -> tuple[Any, ...]:
    book = {"asks": [[2, 1]], "bids": [[1, 1]]}
    return (
        {"book": book, "depth": 30, "sequence": 5, "symbol": f"J{i}", "timestamp": 1,
         "type": "snapshot"},
        {"book": book, "depth": 30, "sequence": 6, "symbol": f"J{i}", "timestamp": 1,
         "type": "snapshot"},  # a periodic snapshot that disagrees: a mismatch
        {"book": book, "depth": 30, "sequence": 7, "symbol": f"K{i}", "timestamp": 1,
         "type": "incremental"},
    )  # fmt: skip


def _bitget_v1(i: int) -> tuple[Any, ...]:
    def arg(channel: str, inst_id: str) -> dict[str, Any]:
        return {"instType": "mc", "channel": channel, "instId": inst_id}

    item = {"asks": [["2", "1"]], "bids": [["1", "1"]], "checksum": 0, "ts": "1"}
    trades = [["1665645128291", "18991", "0.016", "buy"]]
    return (
        {"action": "snapshot", "arg": arg("books", f"J{i}"), "data": [item]},
        {"action": "update", "arg": arg("books", f"K{i}"), "data": [item]},
        {"action": "snapshot", "arg": arg("trade", f"T{i}"), "data": trades},
    )


def _bitget_v2(i: int) -> tuple[Any, ...]:
    def arg(inst_type: str, inst_id: str) -> dict[str, Any]:
        return {"instType": inst_type, "channel": "books", "instId": inst_id}

    item = {"asks": [["2", "1"]], "bids": [["1", "1"]], "checksum": 0, "seq": 1, "ts": "1"}
    return (
        {"action": "snapshot", "arg": arg("SPOT", f"J{i}"), "data": [item], "ts": 1},
        {"action": "update", "arg": arg("SPOT", f"K{i}"), "data": [item], "ts": 1},
        {"action": "snapshot", "arg": arg(f"T{i}", "BTCUSDT"), "data": [item], "ts": 1},
    )


def _bitflyer(i: int) -> tuple[Any, ...]:
    def channel(name: str, message: Any) -> dict[str, Any]:
        params = {"channel": name, "message": message}
        return {"jsonrpc": "2.0", "method": "channelMessage", "params": params}

    board = {"mid_price": 2, "bids": [{"price": 1, "size": 1}], "asks": [{"price": 3, "size": 1}]}
    return (
        channel(f"lightning_board_snapshot_J{i}", board),
        channel(f"lightning_board_K{i}", board),  # diffs before a snapshot: mid_price
    )


def _gmocoin(i: int) -> tuple[Any, ...]:
    level = [{"price": "2", "size": "1"}]
    book = {"channel": "orderbooks", "asks": level, "bids": [{"price": "1", "size": "1"}]}
    return (
        {**book, "symbol": f"J{i}", "timestamp": "2018-03-30T12:34:56.789Z"},
        {**book, "asks": "junk", "symbol": f"K{i}", "timestamp": "x"},  # unreadable
    )


def _hyperliquid(i: int) -> tuple[Any, ...]:
    levels = [[{"px": "1", "sz": "1", "n": 1}], [{"px": "2", "sz": "1", "n": 1}]]
    return (
        {"channel": "l2Book", "data": {"coin": f"J{i}", "time": 1, "levels": levels}},
        {"channel": "l2Book", "data": {"coin": f"K{i}", "time": 1, "levels": levels[::-1]}},
    )


def _binance_futures(i: int) -> tuple[Any, ...]:
    update = {"e": "depthUpdate", "E": 1, "T": 1, "s": f"J{i}", "U": 1, "u": 2, "pu": 0}
    return (
        {"stream": f"j{i}@depth", "data": {**update, "b": [], "a": []}},
        {"stream": f"k{i}@depth5", "data": {**update, "s": f"K{i}", "b": [], "a": []}},
    )


def _kucoin_futures(i: int) -> tuple[Any, ...]:
    data = {"sequence": 5, "change": "2,sell,1", "timestamp": 1}
    return ({"type": "message", "topic": f"/contractMarket/level2:J{i}", "data": data},)


def _kucoin_depth(i: int) -> tuple[Any, ...]:
    data = {"asks": [["2", "1"]], "bids": [["1", "1"]], "timestamp": 1}
    return ({"type": "message", "topic": f"/spotMarket/level2Depth5:J{i}", "data": data},)


EXCHANGES: dict[str, tuple[Callable[[], DataStoreCollection], str, Any]] = {
    "bitbank": (bitbankDataStore, "depth", _bitbank),
    "bitmex": (BitMEXDataStore, "orderbook", _bitmex),
    "coincheck": (CoincheckDataStore, "orderbook", _coincheck),
    "phemex": (PhemexDataStore, "orderbook", _phemex),
    "bitget-v1": (BitgetDataStore, "orderbook", _bitget_v1),
    "bitget-v2": (BitgetV2DataStore, "book", _bitget_v2),
    "bitflyer": (bitFlyerDataStore, "board", _bitflyer),
    "gmocoin": (GMOCoinDataStore, "orderbooks", _gmocoin),
    "hyperliquid": (HyperliquidDataStore, "l2_book", _hyperliquid),
    "binance-futures": (BinanceUSDSMDataStore, "orderbook", _binance_futures),
    "kucoin-futures": (KuCoinDataStore, "orderbook", _kucoin_futures),
    "kucoin-depth5": (KuCoinDataStore, "orderbook5", _kucoin_depth),
}


@pytest.mark.parametrize("exchange", sorted(EXCHANGES))
def test_every_exchange_keeps_its_own_tables_at_the_cap(
    exchange: str, caplog: pytest.LogCaptureFixture
) -> None:
    make, book_name, messages = EXCHANGES[exchange]
    store = make()
    book = getattr(store, book_name)
    grown = feed_junk_many(store, messages, caplog)
    assert len(book.symbols) <= CAP
    assert book.symbols_refused > 0
    reason = f"{book.name}: new symbol beyond max_symbols"
    assert store.statistics().dropped[reason] == book.symbols_refused
    for name, size in tables(store):
        if not name.endswith(ROUTE_CACHES):
            assert size <= CAP + 16, f"{name} holds {size} entries"
    # routing caches by topic name may be fuller at the end than at the middle
    assert grown < GROWTH_BOUND + 4096 * 256, grown
    assert len(warnings_of(caplog)) <= 5, warnings_of(caplog)


def test_bybit_junk_order_statuses_warn_a_few_times_and_stay_bounded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = BybitDataStore()
    with caplog.at_level(logging.WARNING):
        for i in range(2000):
            order = {"orderId": f"o{i}", "orderStatus": f"Junk{i}", "symbol": "BTCUSDT"}
            store.onmessage({"topic": "order", "data": [order]})
    assert len(store.order) == 2000  # each order kept as live, as documented
    limit = store.order._MAX_UNKNOWN_STATUSES
    assert len(store.order._unknown_statuses) == limit
    assert len(warnings_of(caplog)) == limit


def test_a_book_that_cannot_be_resubscribed_warns_once_per_episode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A book whose connection is closed cannot be resubscribed: one WARNING for
    the first, DEBUG for the others, each counted in ``not_sent``."""
    store = PhemexDataStore()
    with caplog.at_level(logging.WARNING):
        for i in range(50):
            book = {"asks": [[2, 1]], "bids": [[1, 1]]}
            msg = {"book": book, "depth": 30, "sequence": 7, "symbol": f"K{i}", "timestamp": 1,
                   "type": "incremental"}  # fmt: skip
            store.onmessage(msg)
    assert store._resubscribe.not_sent == 50
    assert len(warnings_of(caplog)) == 1, warnings_of(caplog)
