"""One contender per process: ``python -m benchmarks.contenders NAME STREAM ARGS``.

Prints one JSON object with the measurements. Run by ``benchmarks.__main__``.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

from .stream import SYMBOL

Feed = Callable[[bytes], None]
Top = Callable[[], object]


def _fast_loads() -> Callable[[bytes], Any]:
    import orjson

    return orjson.loads  # type: ignore[no-any-return]


Book = tuple[dict[float, float], dict[float, float]]


def reference_book(snapshot: dict[str, Any], lines: list[bytes]) -> Book:
    """The final book of the stream, computed the obvious way (two plain dicts): what
    every contender's ``final_book()`` must equal before its timings count."""
    asks = {float(p): float(q) for p, q in snapshot["asks"]}
    bids = {float(p): float(q) for p, q in snapshot["bids"]}
    for line in lines:
        msg = json.loads(line)
        for side, levels in ((asks, msg["a"]), (bids, msg["b"])):
            for price, size in levels:
                if float(size) == 0.0:
                    side.pop(float(price), None)
                else:
                    side[float(price)] = float(size)
    return asks, bids


def _as_book(asks: Any, bids: Any) -> Book:
    return {float(p): float(q) for p, q, *_ in asks}, {float(p): float(q) for p, q, *_ in bids}


class Contender:
    """Adapter: ``snapshot(data)``, ``feed(line)`` decodes + applies, ``top()`` best 10,
    ``final_book()`` the book as ``({price: size}, {price: size})`` (``None``: no book)."""

    def final_book(self) -> Book | None:
        return None

    def snapshot(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def feed(self, line: bytes) -> None:
        raise NotImplementedError

    def top(self) -> object:
        raise NotImplementedError


class Datastores(Contender):
    def __init__(self) -> None:
        from datastores._ws.protocol import decoder_for
        from datastores.exchanges.binance.store import BinanceSpotDataStore

        self.store = BinanceSpotDataStore()
        self.onmessage = self.store.onmessage
        # What a WebSocketApp with hdlr_json=store.onmessage decodes frames with: Levels
        # straight from the text with the native side, else datastores._json.loads.
        self.loads: Callable[[Any], Any] = decoder_for([self.onmessage])
        self.query = {"s": SYMBOL}

    def snapshot(self, data: dict[str, Any]) -> None:
        self.store.orderbook._on_snapshot(SYMBOL, data["lastUpdateId"], data["asks"], data["bids"])
        assert self.store.orderbook.status(SYMBOL).synced

    def feed(self, line: bytes) -> None:
        self.onmessage(self.loads(line))

    def top(self) -> object:
        return self.store.orderbook.sorted(self.query, limit=10)

    def final_book(self) -> Book | None:
        return _as_book(*self.store.orderbook.levels(SYMBOL))

    def check(self) -> dict[str, Any]:
        status = self.store.orderbook.status(SYMBOL)
        assert status.synced, status
        assert status.gaps == 0, status
        return {"levels": len(self.store.orderbook)}


class DatastoresObserved(Datastores):
    """The same store with one change-feed observer that touches every batch (what
    a recorder or a relay pays on top: the batch, not its serialisation)."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = 0
        self.levels = 0
        self.store.add_observer(self._observe)

    def _observe(self, batch: Any) -> None:
        self.batches += 1
        for change in batch.changes:
            asks = getattr(change, "asks", None)
            if asks is not None:
                self.levels += len(asks) + len(change.bids)

    def check(self) -> dict[str, Any]:
        assert self.batches > 0
        assert self.levels > 0
        assert self.store.observer_errors == 0
        return super().check()


class Pybotters(Contender):
    def __init__(self) -> None:
        import pybotters

        self.store = pybotters.BinanceSpotDataStore()
        self.loads = json.loads
        self.onmessage = self.store.onmessage
        self.query = {"s": SYMBOL}

    def snapshot(self, data: dict[str, Any]) -> None:
        # What BinanceSpotDataStore.initialize() does with a /api/v3/depth response.
        self.store.orderbook._onresponse(SYMBOL, data)

    def feed(self, line: bytes) -> None:
        self.onmessage(self.loads(line))

    def top(self) -> object:
        return self.store.orderbook.sorted(self.query, limit=10)

    def final_book(self) -> Book | None:
        side = {"a": {}, "b": {}}  # type: dict[str, dict[float, float]]
        for item in self.store.orderbook.find():
            side[item["S"]][float(item["p"])] = float(item["q"])
        return side["a"], side["b"]

    def check(self) -> dict[str, Any]:
        return {"levels": len(self.store.orderbook)}


class PlainSortedDict(Contender):
    """The floor: json.loads plus two SortedDicts, no store semantics at all."""

    def __init__(self) -> None:
        from sortedcontainers import SortedDict

        self.asks: SortedDict[float, list[str]] = SortedDict()
        self.bids: SortedDict[float, list[str]] = SortedDict()
        self.loads = json.loads

    def snapshot(self, data: dict[str, Any]) -> None:
        for level in data["asks"]:
            self.asks[float(level[0])] = level
        for level in data["bids"]:
            self.bids[-float(level[0])] = level

    def feed(self, line: bytes) -> None:
        msg = self.loads(line)
        for book, levels, sign in ((self.asks, msg["a"], 1.0), (self.bids, msg["b"], -1.0)):
            for level in levels:
                key = sign * float(level[0])
                if float(level[1]) == 0.0:
                    book.pop(key, None)
                else:
                    book[key] = level

    def top(self) -> object:
        return list(islice(self.asks.values(), 10)), list(islice(self.bids.values(), 10))

    def final_book(self) -> Book | None:
        return _as_book(self.asks.values(), self.bids.values())

    def check(self) -> dict[str, Any]:
        return {"levels": len(self.asks) + len(self.bids)}


class OrderBookC(Contender):
    """PyPI ``order-book`` (a C extension: two sorted dicts of float price -> float
    size), fed as its README does: floats parsed from Binance's strings, size 0 deletes."""

    def __init__(self) -> None:
        from order_book import OrderBook

        self.book = OrderBook()
        self.loads = _fast_loads()

    def snapshot(self, data: dict[str, Any]) -> None:
        asks, bids = self.book.asks, self.book.bids
        for price, size in data["asks"]:
            asks[float(price)] = float(size)
        for price, size in data["bids"]:
            bids[float(price)] = float(size)

    def feed(self, line: bytes) -> None:
        msg = self.loads(line)
        for side, levels in ((self.book.asks, msg["a"]), (self.book.bids, msg["b"])):
            for price, size in levels:
                value = float(size)
                if value != 0.0:
                    side[float(price)] = value
                elif float(price) in side:
                    del side[float(price)]

    def top(self) -> object:
        asks, bids = self.book.asks, self.book.bids
        return [asks.index(i) for i in range(10)], [bids.index(i) for i in range(10)]

    def final_book(self) -> Book | None:
        return dict(self.book.asks.to_dict()), dict(self.book.bids.to_dict())


class Ccxt(Contender):
    """ccxt's WebSocket order book (``ccxt.async_support.base.ws.order_book``: a sorted
    list per side kept with ``bisect``), fed as ccxt's Binance handler does
    (``store(float(price), float(size))``; size 0 deletes)."""

    def __init__(self) -> None:
        from ccxt.async_support.base.ws.order_book import OrderBook

        self.book = OrderBook()
        self.loads = _fast_loads()

    def snapshot(self, data: dict[str, Any]) -> None:
        self.book.reset(
            {
                "asks": [[float(p), float(q)] for p, q in data["asks"]],
                "bids": [[float(p), float(q)] for p, q in data["bids"]],
            }
        )

    def feed(self, line: bytes) -> None:
        msg = self.loads(line)
        book = self.book
        asks, bids = book["asks"], book["bids"]
        for price, size in msg["a"]:
            asks.store(float(price), float(size))
        for price, size in msg["b"]:
            bids.store(float(price), float(size))

    def top(self) -> object:
        return self.book["asks"][:10], self.book["bids"][:10]

    def final_book(self) -> Book | None:
        return _as_book(self.book["asks"], self.book["bids"])


class Nautilus(Contender):
    """nautilus_trader's order book from Python (``nautilus_trader.model.book.OrderBook``,
    L2 by price level, Rust core behind Cython bindings): each level change is a
    ``BookOrder`` of ``Price``/``Quantity`` parsed from the exchange's strings,
    ``update`` to set a level, ``delete`` to remove it."""

    def __init__(self) -> None:
        from nautilus_trader.model.book import OrderBook
        from nautilus_trader.model.data import BookOrder
        from nautilus_trader.model.enums import BookType, OrderSide
        from nautilus_trader.model.identifiers import InstrumentId
        from nautilus_trader.model.objects import Price, Quantity

        self.book = OrderBook(InstrumentId.from_str(f"{SYMBOL}.BINANCE"), BookType.L2_MBP)
        self.order = BookOrder
        self.price, self.quantity = Price.from_str, Quantity.from_str
        self.sides = (OrderSide.SELL, OrderSide.BUY)
        self.loads = _fast_loads()

    def _apply(self, side: Any, levels: list[list[str]]) -> None:
        book, order, price_of, quantity_of = self.book, self.order, self.price, self.quantity
        for price, size in levels:
            level = order(side, price_of(price), quantity_of(size), 0)
            if float(size) == 0.0:
                book.delete(level, 0)
            else:
                book.update(level, 0)

    def snapshot(self, data: dict[str, Any]) -> None:
        self._apply(self.sides[0], data["asks"])
        self._apply(self.sides[1], data["bids"])

    def feed(self, line: bytes) -> None:
        msg = self.loads(line)
        self._apply(self.sides[0], msg["a"])
        self._apply(self.sides[1], msg["b"])

    def top(self) -> object:
        return self.book.asks()[:10], self.book.bids()[:10]

    def final_book(self) -> Book | None:
        def side(levels: list[Any]) -> dict[float, float]:
            # Price/Quantity are fixed-point: compare their decimal strings as floats.
            return {float(str(lv.price)): float(str(lv.orders()[0].size)) for lv in levels}

        return side(self.book.asks()), side(self.book.bids())


class OrjsonOnly(Contender):
    """``orjson.loads`` alone on the same lines: the floor for decode + apply."""

    def __init__(self) -> None:
        import orjson

        self.loads = orjson.loads

    def snapshot(self, data: dict[str, Any]) -> None:
        pass

    def feed(self, line: bytes) -> None:
        self.loads(line)

    def top(self) -> object:
        return None

    def check(self) -> dict[str, Any]:
        return {}


class JsonOnly(Contender):
    """``json.loads`` alone on the same lines: the yardstick for decode + apply."""

    def snapshot(self, data: dict[str, Any]) -> None:
        pass

    def feed(self, line: bytes) -> None:
        json.loads(line)

    def top(self) -> object:
        return None

    def check(self) -> dict[str, Any]:
        return {}


CONTENDERS: dict[str, type[Contender]] = {
    "datastores": Datastores,
    "observed": DatastoresObserved,
    "pybotters": Pybotters,
    "sorteddict": PlainSortedDict,
    "json.loads": JsonOnly,
    "orjson.loads": OrjsonOnly,
    "order-book": OrderBookC,
    "ccxt": Ccxt,
    "nautilus": Nautilus,
}


def _best(fn: Callable[[], float], repeats: int) -> tuple[float, float]:
    times = sorted(fn() for _ in range(repeats))
    return times[0], times[len(times) // 2]


def run(name: str, stream: Path, *, limit_b: int, repeats: int) -> dict[str, Any]:
    raw = stream.read_bytes().splitlines()
    snapshot = json.loads(raw[0])
    lines = raw[1:]
    cls = CONTENDERS[name]
    result: dict[str, Any] = {"name": name, "messages": len(lines)}
    reference: list[Book] = []

    def phase_a() -> float:
        c = cls()
        c.snapshot(snapshot)
        feed = c.feed
        for line in lines[:2000]:  # warm-up
            feed(line)
        c = cls()
        c.snapshot(snapshot)
        feed = c.feed
        gc.collect()
        start = time.perf_counter()
        for line in lines:
            feed(line)
        elapsed = time.perf_counter() - start
        result.update(c.check() if hasattr(c, "check") else {})
        book = c.final_book()
        if book is not None:
            if not reference:
                reference.append(reference_book(snapshot, lines))
            if book != reference[0]:
                raise SystemExit(f"{name}: wrong final book; its timings do not count")
            result["correct"] = True
        return elapsed

    best, median = _best(phase_a, repeats)
    result["a_msgs_per_s"] = len(lines) / best
    result["a_median_msgs_per_s"] = len(lines) / median
    if name in ("json.loads", "orjson.loads"):
        return result

    subset = lines[:limit_b] if limit_b else lines

    def phase_b() -> float:
        c = cls()
        c.snapshot(snapshot)
        feed, top = c.feed, c.top
        gc.collect()
        start = time.perf_counter()
        for line in subset:
            feed(line)
            top()
        return time.perf_counter() - start

    best, median = _best(phase_b, repeats)
    result["b_messages"] = len(subset)
    result["b_msgs_per_s"] = len(subset) / best
    result["b_median_msgs_per_s"] = len(subset) / median

    c = cls()
    c.snapshot(snapshot)
    for line in lines:
        c.feed(line)
    calls = 20 if name == "pybotters" else 2000
    top = c.top
    top()

    def phase_c() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            top()
        return (time.perf_counter() - start) / calls

    best_c, median_c = _best(phase_c, repeats)
    result["c_sorted_us"] = best_c * 1e6
    result["c_median_sorted_us"] = median_c * 1e6
    del c
    gc.collect()

    # Memory: what the store retains for the same book (snapshot + every diff).
    # The snapshot is decoded again inside the traced region: a store may keep its lists.
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    c = cls()
    c.snapshot(json.loads(raw[0]))
    for line in lines:
        c.feed(line)
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result["memory_mib"] = (current - base) / 2**20
    result["peak_memory_mib"] = (peak - base) / 2**20
    return result


def run_keyed(name: str, *, upserts: int, repeats: int) -> dict[str, Any]:
    """``upserts`` single-item ``_update`` calls on a keyed store (10,000 distinct keys)."""
    import random

    rng = random.Random(7)
    items = [
        {
            "s": "BTCUSDT",
            "i": rng.randrange(10_000),
            "X": rng.choice(["NEW", "PARTIALLY_FILLED"]),
            "p": f"{rng.uniform(1, 2):.2f}",
            "q": "1.0",
            "z": f"{rng.random():.3f}",
            "T": 1_700_000_000_000 + n,
        }
        for n in range(upserts)
    ]
    if name == "datastores":
        from datastores import DataStore
    else:
        from pybotters import DataStore  # type: ignore[no-redef]

    def once() -> float:
        store = DataStore(keys=["s", "i"])
        update = store._update
        gc.collect()
        start = time.perf_counter()
        for item in items:
            update([item])
        return time.perf_counter() - start

    best, median = _best(once, repeats)
    return {
        "name": name,
        "upserts": upserts,
        "upserts_per_s": upserts / best,
        "median_upserts_per_s": upserts / median,
    }


def main(argv: list[str]) -> None:
    kind, name, *rest = argv
    if kind == "book":
        stream, limit_b, repeats = Path(rest[0]), int(rest[1]), int(rest[2])
        print(json.dumps(run(name, stream, limit_b=limit_b, repeats=repeats)))
    else:
        upserts, repeats = int(rest[0]), int(rest[1])
        print(json.dumps(run_keyed(name, upserts=upserts, repeats=repeats)))


if __name__ == "__main__":
    main(sys.argv[1:])
