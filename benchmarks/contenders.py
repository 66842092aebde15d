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


class Contender:
    """Adapter: ``snapshot(data)``, ``feed(line)`` decodes + applies, ``top()`` best 10."""

    def snapshot(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def feed(self, line: bytes) -> None:
        raise NotImplementedError

    def top(self) -> object:
        raise NotImplementedError


class Datastores(Contender):
    def __init__(self) -> None:
        from datastores import _json
        from datastores.exchanges.binance.store import BinanceSpotDataStore

        self.store = BinanceSpotDataStore()
        self.loads = _json.loads
        self.onmessage = self.store.onmessage
        self.query = {"s": SYMBOL}

    def snapshot(self, data: dict[str, Any]) -> None:
        self.store.orderbook._on_snapshot(SYMBOL, data["lastUpdateId"], data["asks"], data["bids"])
        assert self.store.orderbook.status(SYMBOL).synced

    def feed(self, line: bytes) -> None:
        self.onmessage(self.loads(line))

    def top(self) -> object:
        return self.store.orderbook.sorted(self.query, limit=10)

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

    def check(self) -> dict[str, Any]:
        return {"levels": len(self.asks) + len(self.bids)}


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
        return elapsed

    best, median = _best(phase_a, repeats)
    result["a_msgs_per_s"] = len(lines) / best
    result["a_median_msgs_per_s"] = len(lines) / median
    if name == "json.loads":
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
