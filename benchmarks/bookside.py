"""The book-side workloads of issue 17, native side against pure Python, in one run.

Usage: ``python -m benchmarks.bookside [--rounds N] [--messages N] [--quick]``, or
``--exchanges`` for each exchange's sample stream through ``onmessage``.

Each round starts one fresh interpreter per implementation (``DATASTORES_PURE=1``
for the pure-Python fallback, unset for the C extension), alternating which goes
first; each child measures every row once and prints JSON; the table shows the
median over the rounds, in CPU time of the process (``time.process_time``: other
load on a shared machine disturbs it far less than wall time). Every child checks
its final books before its figures count.

Rows:

* ``apply ns/level``: the Binance depth stream of :mod:`benchmarks.stream` (5,000
  levels a side), its decoded level lists applied with ``apply_levels`` alone;
* ``onmessage ns/level``: the same messages, pre-decoded, through
  ``BinanceSpotDataStore.onmessage`` (sequence checks, integrity state), per level
  change;
* ``1,000 symbols msgs/s``: 1,000 books of 50 levels a side, diffs of 1-20 changes
  near the top, the symbols interleaved round-robin, pre-decoded, ``onmessage``;
* ``KiB per symbol``: what those 1,000 books retain after their snapshots were
  decoded and applied (tracemalloc), the level lists and their strings included;
* ``100k book ns/change``: one side of 100,000 levels, 10-level diffs spread
  uniformly over the whole book (updates, deletes and inserts), ``apply_levels``;
* ``levels() top-10 ns``: ``orderbook.levels(symbol, 10)`` (raw lists, both sides)
  right after each message of the Binance stream, timed per call;
* ``sorted() top-10 ns``: ``orderbook.sorted({"s": symbol}, limit=10)`` (the item
  dicts, both sides) the same way.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from ._children import run_child
from .stream import SYMBOL, generate

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"


def _stream(levels: int, messages: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"binance-depth-{levels}-{messages}.jsonl"
    if not path.exists():
        generate(path, levels=levels, messages=messages)
    lines = path.read_bytes().splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def _apply_only(snapshot: dict[str, Any], diffs: list[dict[str, Any]]) -> float:
    from datastores._bookside import Side, apply_levels

    asks, bids = Side(), Side()
    apply_levels(asks, snapshot["asks"], 1.0)
    apply_levels(bids, snapshot["bids"], -1.0)
    pairs = [(m["a"], m["b"]) for m in diffs]
    levels = sum(len(a) + len(b) for a, b in pairs)
    gc.collect()
    start = time.process_time()
    for a, b in pairs:
        if a:
            apply_levels(asks, a, 1.0)
        if b:
            apply_levels(bids, b, -1.0)
    elapsed = time.process_time() - start
    assert len(asks) >= 2500
    assert len(bids) >= 2500
    return elapsed / levels * 1e9


def _binance_store(snapshot: dict[str, Any]) -> Any:
    from datastores.exchanges.binance.store import BinanceSpotDataStore

    store = BinanceSpotDataStore()
    store.orderbook._on_snapshot(
        SYMBOL, snapshot["lastUpdateId"], snapshot["asks"], snapshot["bids"]
    )
    return store


def _onmessage(snapshot: dict[str, Any], diffs: list[dict[str, Any]]) -> tuple[float, float]:
    store = _binance_store(snapshot)
    onmessage = store.onmessage
    levels = sum(len(m["a"]) + len(m["b"]) for m in diffs)
    gc.collect()
    start = time.process_time()
    for message in diffs:
        onmessage(message)
    elapsed = time.process_time() - start
    status = store.orderbook.status(SYMBOL)
    assert status.synced, status
    assert status.gaps == 0, status
    return elapsed / levels * 1e9, elapsed / len(diffs) * 1e6


def _top10_reads(snapshot: dict[str, Any], diffs: list[dict[str, Any]], dicts: bool) -> float:
    """Median ns of one top-10 read (both sides) right after each message: raw
    ``levels(symbol, 10)``, or ``sorted({"s": symbol}, limit=10)`` (item dicts)."""
    store = _binance_store(snapshot)
    onmessage = store.onmessage
    book = store.orderbook
    query = {"s": SYMBOL}
    clock = time.perf_counter_ns
    samples = []
    gc.collect()
    for message in diffs:
        onmessage(message)
        if dicts:
            start = clock()
            book.sorted(query, 10)
        else:
            start = clock()
            book.levels(SYMBOL, 10)
        samples.append(clock() - start)
    empty = []
    for _ in range(len(diffs)):
        start = clock()
        empty.append(clock() - start)
    asks, bids = book.levels(SYMBOL, 10)
    assert len(asks) == len(bids) == 10
    assert float(asks[0][0]) > float(bids[0][0])
    items = book.sorted(query, 10)
    assert [(i["p"], i["q"]) for i in items["a"]] == [(a[0], a[1]) for a in asks]
    assert [(i["p"], i["q"]) for i in items["b"]] == [(b[0], b[1]) for b in bids]
    return statistics.median(samples) - statistics.median(empty)


def _symbols_stream(
    symbols: int, depth: int, messages: int
) -> tuple[list[str], list[str], list[str], list[tuple[dict[int, str], dict[int, str]]]]:
    """``symbols`` books of ``depth`` levels a side: (names, snapshot lines, diff lines,
    the final books as {price in cents: size} per side)."""
    rng = random.Random(7)
    names = [f"SYM{i:04d}USDT" for i in range(symbols)]
    snapshots = []
    books: list[tuple[dict[int, str], dict[int, str]]] = []
    for _ in names:
        mid = rng.randint(100_000, 5_000_000)
        asks = {mid + 1 + i: f"{rng.uniform(0.001, 5):.8f}" for i in range(depth)}
        bids = {mid - 1 - i: f"{rng.uniform(0.001, 5):.8f}" for i in range(depth)}
        books.append((asks, bids))
        snapshots.append(
            json.dumps(
                {
                    "lastUpdateId": 100,
                    "asks": [[f"{p / 100:.2f}", q] for p, q in sorted(asks.items())],
                    "bids": [[f"{p / 100:.2f}", q] for p, q in sorted(bids.items(), reverse=True)],
                }
            )
        )
    update_ids = [100] * symbols
    lines = []
    for n in range(messages):
        index = n % symbols
        asks, bids = books[index]
        side_a: list[list[str]] = []
        side_b: list[list[str]] = []
        for _ in range(rng.randint(1, 20)):
            is_ask = rng.random() < 0.5
            book, out = (asks, side_a) if is_ask else (bids, side_b)
            best = min(asks) if is_ask else max(bids)
            offset = min(int(rng.expovariate(1 / 8)), depth - 1)
            price = best + offset if is_ask else best - offset
            if rng.random() < 0.2 and price in book and len(book) > depth // 2:
                del book[price]
                out.append([f"{price / 100:.2f}", "0.00000000"])
            else:
                book[price] = f"{rng.uniform(0.001, 5):.8f}"
                out.append([f"{price / 100:.2f}", book[price]])
        first = update_ids[index] + 1
        update_ids[index] += 1
        message = {"e": "depthUpdate", "E": 1, "s": names[index], "U": first, "u": first}
        lines.append(json.dumps({**message, "b": side_b, "a": side_a}))
    return names, snapshots, lines, books


def _many_symbols(symbols: int, depth: int, messages: int) -> dict[str, float]:
    """1,000 books of 50 levels a side; memory after the snapshots and the stream."""
    names, snapshots, lines, books = _symbols_stream(symbols, depth, messages)
    from datastores.exchanges.binance.store import BinanceSpotDataStore

    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    store = BinanceSpotDataStore()
    store.orderbook.max_symbols = max(store.orderbook.max_symbols, symbols)
    for name, line in zip(names, snapshots, strict=True):
        data = json.loads(line)
        store.orderbook._on_snapshot(name, data["lastUpdateId"], data["asks"], data["bids"])
        del data
    gc.collect()
    after_snapshots = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()

    decoded = [json.loads(line) for line in lines]
    onmessage = store.onmessage
    gc.collect()
    start = time.process_time()
    for message in decoded:
        onmessage(message)
    elapsed = time.process_time() - start
    for name, (asks, bids) in zip(names, books, strict=True):
        status = store.orderbook.status(name)
        assert status.synced, status
        assert status.gaps == 0, status
        got = store.orderbook.levels(name)
        assert [float(p) for p, _ in got[0]] == [p / 100 for p in sorted(asks)], name
        assert [float(p) for p, _ in got[1]] == [p / 100 for p in sorted(bids, reverse=True)]
    del decoded
    return {
        "symbols_msgs_per_s": messages / elapsed,
        "kib_per_symbol": after_snapshots / symbols / 1024,
    }


def _big_book(levels: int, changes: int) -> float:
    """One side of ``levels`` levels, 10-level diffs uniform over the book."""
    from datastores._bookside import Side, apply_levels

    rng = random.Random(3)
    side = Side()
    book = {p: f"{rng.uniform(0.001, 5):.8f}" for p in range(1, 2 * levels, 2)}  # half the grid
    apply_levels(side, [[f"{p / 100:.2f}", q] for p, q in sorted(book.items())], 1.0)
    diffs = []
    for _ in range(changes // 10):
        diff = []
        for _ in range(10):
            price = rng.randrange(1, 2 * levels)
            if price in book and rng.random() < 0.5:
                del book[price]
                diff.append([f"{price / 100:.2f}", "0"])
            else:
                book[price] = f"{rng.uniform(0.001, 5):.8f}"
                diff.append([f"{price / 100:.2f}", book[price]])
        diffs.append(diff)
    gc.collect()
    start = time.process_time()
    for diff in diffs:
        apply_levels(side, diff, 1.0)
    elapsed = time.process_time() - start
    assert len(side) == len(book)
    assert [float(level[0]) for level in side.best_levels(5)] == [p / 100 for p in sorted(book)[:5]]
    return elapsed / (len(diffs) * 10) * 1e9


#: each exchange's collection and its sample streams under tests/exchanges/
EXCHANGES = {
    "binance-spot": ("datastores:BinanceSpotDataStore", ["binance/data/spot_depth.jsonl"]),
    "bitget-v2": ("datastores:BitgetV2DataStore", ["bitget/data/v2_public.jsonl"]),
    "bitget-v1": ("datastores:BitgetDataStore", ["bitget/data/v1_stream.jsonl"]),
    "okx": ("datastores:OKXDataStore", ["okx/data/books.json"]),
    "bybit": ("datastores:BybitDataStore", ["bybit/data/orderbook_50.json"]),
    "kucoin": ("datastores:KuCoinDataStore", ["kucoin/data/spot_public.jsonl"]),
    "bitmex": ("datastores:BitMEXDataStore", ["bitmex/data/public.jsonl"]),
    "phemex": ("datastores:PhemexDataStore", ["phemex/data/public.jsonl"]),
    "gmocoin": ("datastores:GMOCoinDataStore", ["gmocoin/data/public.jsonl"]),
    "bitbank": ("datastores:bitbankDataStore", ["bitbank/data/public.jsonl"]),
    "coincheck": ("datastores:CoincheckDataStore", ["coincheck/data/public.jsonl"]),
    "bitflyer": ("datastores:bitFlyerDataStore", ["bitflyer/data/public.jsonl"]),
    "hyperliquid": ("datastores:HyperliquidDataStore", ["hyperliquid/data/public.jsonl"]),
}


def _sample(path: Path) -> list[Any]:
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    loaded = json.loads(text)
    return loaded if isinstance(loaded, list) else [loaded]


def exchange_replays(replays: int = 300, repeats: int = 5) -> dict[str, float]:
    """CPU µs per message of each exchange's sample stream (``tests/exchanges/*/data``)
    through a fresh collection's ``onmessage``, pre-decoded (fresh copies), ``replays``
    collections per repeat, median over ``repeats``: what the book changes cost each
    exchange's handlers, their checksums included."""
    import copy
    import importlib
    import logging

    logging.disable(logging.CRITICAL)  # the samples' unsynced books log resyncs
    data = ROOT / "tests" / "exchanges"
    out = {}
    for name, (where, files) in EXCHANGES.items():
        module, attr = where.split(":")
        collection = getattr(importlib.import_module(module), attr)
        messages = [message for file in files for message in _sample(data / file)]
        samples = []
        for _ in range(repeats):
            copies = [copy.deepcopy(messages) for _ in range(replays)]
            stores = [collection() for _ in range(replays)]
            gc.collect()
            start = time.process_time()
            for store, batch in zip(stores, copies, strict=True):
                onmessage = store.onmessage
                for message in batch:
                    onmessage(message)
            elapsed = time.process_time() - start
            samples.append(elapsed / (replays * len(messages)) * 1e6)
        out[name] = statistics.median(samples)
    logging.disable(logging.NOTSET)
    return out


def worker(args: argparse.Namespace) -> None:
    from datastores import _bookside

    snapshot, diffs = _stream(5000, args.messages)
    result: dict[str, Any] = {"native": _bookside.NATIVE}
    result["apply_ns_per_level"] = _apply_only(snapshot, diffs)
    result["onmessage_ns_per_level"], result["onmessage_us_per_msg"] = _onmessage(snapshot, diffs)
    result["top10_levels_ns"] = _top10_reads(snapshot, diffs[: args.messages // 4], False)
    result["top10_sorted_ns"] = _top10_reads(snapshot, diffs[: args.messages // 4], True)
    result.update(_many_symbols(1000, 50, args.messages))
    result["big_book_ns_per_change"] = _big_book(100_000, args.messages)
    print(json.dumps(result))


ROWS = [
    ("apply_ns_per_level", "Binance 5,000/side, apply_levels only, ns per level", False),
    ("onmessage_ns_per_level", "same, onmessage (pre-decoded), ns per level", False),
    ("onmessage_us_per_msg", "same, onmessage (pre-decoded), µs per message", False),
    ("symbols_msgs_per_s", "1,000 symbols x 50 levels, interleaved, msgs/s", True),
    ("kib_per_symbol", "memory per symbol, 50+50 levels, KiB", False),
    ("big_book_ns_per_change", "one side of 100,000 levels, uniform changes, ns/change", False),
    ("top10_levels_ns", "levels(symbol, 10) after an update, ns", False),
    ("top10_sorted_ns", "sorted({'s': symbol}, limit=10) after an update, ns", False),
]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bookside")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="1 round, 20,000 messages")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--exchanges",
        action="store_true",
        help="each exchange's sample stream through onmessage, µs per message (this tree)",
    )
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.exchanges:
        for name, micros in exchange_replays().items():
            print(f"{name:<14} {micros:8.2f} µs per message")
        return
    if args.quick:
        args.rounds, args.messages = 1, 20_000
    _stream(5000, args.messages)  # generate the cached stream once, outside the timing
    names = ["native", "pure"]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            arguments = ["--worker", "--messages", str(args.messages)]
            result = run_child("benchmarks.bookside", arguments, pure=name == "pure")
            assert result["native"] == (name == "native"), "the extension is not built"
            runs[name].append(result)
    print(
        f"python {sys.version.split()[0]}, {args.rounds} rounds, {args.messages} messages, "
        "medians (CPU time)"
    )
    print(f"{'row':<58} {'pure':>10} {'native':>10} {'native/pure':>12}")
    for key, label, higher_is_better in ROWS:
        pure = statistics.median(r[key] for r in runs["pure"])
        native = statistics.median(r[key] for r in runs["native"])
        ratio = native / pure
        better = f"{ratio:.2f}x" + (" (faster)" if higher_is_better else "")
        print(f"{label:<58} {pure:>10,.1f} {native:>10,.1f} {better:>12}")


if __name__ == "__main__":
    main()
