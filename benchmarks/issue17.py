"""Issue 17's whole table in one run: datastores (C extension and pure Python) and the
peers side by side, with the best peer, the ratio, the spread and the goal per row.

Usage: ``python -m benchmarks.issue17 [--rounds N] [--messages N] [--seconds S] [--quick]``.

Each round starts one fresh interpreter per contender (``datastores`` with the C
extension, ``datastores-pure`` with ``DATASTORES_PURE=1``, the JSON floor and every
installed peer of the ``bench`` extra), in an order that alternates between rounds;
each child measures every row once in CPU time of its process (``time.process_time``,
which other load on a shared machine disturbs far less than wall time) and checks its
final books against a model before its figures count. The table shows medians over
the rounds; "spread" is the worst round against the median. The end-to-end rows run
:func:`benchmarks.endtoend.run` once per round after the children.

Rows (the Binance Spot depth stream of :mod:`benchmarks.stream`, 5,000 levels a side):

* apply ns per level change: the messages pre-decoded, fed to each contender's apply
  (``onmessage`` for datastores), per level change;
* decode + apply msgs/s, also as a fraction of ``orjson.loads`` alone on the same lines;
* apply + top-10 read after every message, msgs/s (``sorted({"s": symbol}, limit=10)``
  for datastores, each peer's cheapest top-10);
* one top-10 read right after an update, µs (median of per-call times): datastores'
  ``sorted()`` dicts and raw ``levels()``, each peer's top-10;
* 1,000 symbols x 50 levels, interleaved, pre-decoded, msgs/s, and the memory per
  symbol after the snapshots (tracemalloc: a peer's allocations outside Python's
  allocator are not seen);
* one book of 100,000 levels (asks), 10-level messages uniform over the book, ns per
  change;
* loopback WebSocket end to end (``benchmarks.endtoend``): p99.9 send -> ``wait()`` at
  5,000 msgs/s, and the received rate with an unlimited sender (the client's maximum),
  with the client's CPU per message.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from . import bookside, endtoend
from ._children import run_child
from .contenders import CONTENDERS, Book, reference_book
from .stream import SYMBOL

#: contender -> module it needs (None: always there)
NAMES: dict[str, str | None] = {
    "orjson.loads": "orjson",
    "sorteddict": None,
    "order-book": "order_book",
    "ccxt": "ccxt",
    "nautilus": "nautilus_trader",
    "datastores": None,
    "datastores-pure": None,
}
PEERS = ("sorteddict", "order-book", "ccxt", "nautilus")
#: peers whose top-10 read copies or sorts a whole side: fewer messages for those rows
SLOW = ("nautilus",)
#: peers whose books live outside Python's allocator (tracemalloc cannot see them)
UNTRACED = ("nautilus",)


def _identity(value: Any) -> Any:
    return value


def _fresh(name: str, snapshot_line: bytes, decoded: bool) -> Any:
    import orjson

    contender: Any = CONTENDERS["datastores" if name.startswith("datastores") else name]()
    contender.snapshot(orjson.loads(snapshot_line))
    if decoded:
        contender.loads = _identity  # every contender decodes through self.loads
    return contender


def _loop(feed: Callable[[Any], object], items: list[Any]) -> Callable[[], None]:
    def run() -> None:
        for item in items:
            feed(item)

    return run


def _cpu(fn: Callable[[], None]) -> float:
    gc.collect()
    start = time.process_time()
    fn()
    return time.process_time() - start


def _book_rows(name: str, messages: int) -> dict[str, float]:
    import orjson

    _, diffs = bookside._stream(5000, messages)
    path = bookside.CACHE / f"binance-depth-5000-{messages}.jsonl"
    raw = path.read_bytes().splitlines()
    snapshot_line, lines = raw[0], raw[1:]
    out: dict[str, float] = {}
    if name == "orjson.loads":
        loads = orjson.loads
        out["decode_msgs"] = len(lines) / _cpu(_loop(loads, lines))
        return out
    n = len(diffs) // 10 if name in SLOW else len(diffs)
    levels = sum(len(m["a"]) + len(m["b"]) for m in diffs[:n])
    reference = reference_book(json.loads(snapshot_line), lines[:n])

    c = _fresh(name, snapshot_line, decoded=True)
    feed = c.feed
    out["apply_ns"] = _cpu(_loop(feed, diffs[:n])) / levels * 1e9
    if c.final_book() != reference:
        raise SystemExit(f"{name}: wrong final book; its timings do not count")

    c = _fresh(name, snapshot_line, decoded=False)
    feed = c.feed
    out["decode_msgs"] = n / _cpu(_loop(feed, lines[:n]))

    c = _fresh(name, snapshot_line, decoded=False)
    feed, top = c.feed, c.top
    m = n // 30 if name in SLOW else n

    def read_after_each() -> None:
        for line in lines[:m]:
            feed(line)
            top()

    out["read_msgs"] = m / _cpu(read_after_each)

    c = _fresh(name, snapshot_line, decoded=True)
    reads: dict[str, Callable[[], object]] = {"top_ns": c.top}
    if name.startswith("datastores"):
        book = c.store.orderbook
        reads["levels_ns"] = lambda: book.levels(SYMBOL, 10)
    clock = time.perf_counter_ns
    samples: dict[str, list[int]] = {key: [] for key in reads}
    gc.collect()
    for message in diffs[: n // 4]:
        c.feed(message)
        for key, read in reads.items():
            start = clock()
            read()
            samples[key].append(clock() - start)
    empty = []
    for _ in range(1000):
        start = clock()
        empty.append(clock() - start)
    for key, values in samples.items():
        out[key] = statistics.median(values) - statistics.median(empty)
    return out


def _symbols_rows(name: str, messages: int) -> dict[str, float]:
    if name.startswith("datastores"):
        result = bookside._many_symbols(1000, 50, messages)
        return {"symbols_msgs": result["symbols_msgs_per_s"], "kib": result["kib_per_symbol"]}
    names, snapshots, lines, books = bookside._symbols_stream(1000, 50, messages)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    contenders = {
        symbol: _fresh(name, line.encode(), decoded=True)
        for symbol, line in zip(names, snapshots, strict=True)
    }
    gc.collect()
    kib = (tracemalloc.get_traced_memory()[0] - base) / len(names) / 1024
    tracemalloc.stop()
    decoded = [json.loads(line) for line in lines]
    feeds = {symbol: c.feed for symbol, c in contenders.items()}

    def run() -> None:
        for message in decoded:
            feeds[message["s"]](message)

    elapsed = _cpu(run)
    for symbol, (asks, bids) in zip(names, books, strict=True):
        want: Book = (
            {p / 100: float(q) for p, q in asks.items()},
            {p / 100: float(q) for p, q in bids.items()},
        )
        if contenders[symbol].final_book() != want:
            raise SystemExit(f"{name}: wrong final book for {symbol}; its timings do not count")
    result = {"symbols_msgs": len(decoded) / elapsed}
    if name not in UNTRACED:
        result["kib"] = kib
    return result


def _big_rows(name: str, changes: int) -> dict[str, float]:
    """One book of 100,000 ask levels (and one bid), 10-level messages uniform over it."""
    rng = random.Random(3)
    asks = {p: f"{rng.uniform(0.001, 5):.8f}" for p in range(1, 200_000, 2)}  # half the grid
    snapshot = {
        "lastUpdateId": 100,
        "asks": [[f"{p / 100:.2f}", q] for p, q in sorted(asks.items())],
        "bids": [["0.001", "1"]],
    }
    messages = []
    for n in range(changes // 10):
        diff = []
        for _ in range(10):
            price = rng.randrange(1, 200_000)
            if price in asks and rng.random() < 0.5:
                del asks[price]
                diff.append([f"{price / 100:.2f}", "0"])
            else:
                asks[price] = f"{rng.uniform(0.001, 5):.8f}"
                diff.append([f"{price / 100:.2f}", asks[price]])
        update = 101 + n
        messages.append(
            {"e": "depthUpdate", "E": 1, "s": SYMBOL, "U": update, "u": update, "b": [], "a": diff}
        )
    if name in SLOW:
        messages = messages[: len(messages) // 10]
    c = _fresh(name, json.dumps(snapshot).encode(), decoded=True)
    feed = c.feed
    elapsed = _cpu(_loop(feed, messages))
    if name not in SLOW:  # a book of 100,000 levels, compared whole
        final = c.final_book()
        if final[0] != {p / 100: float(q) for p, q in asks.items()}:
            raise SystemExit(f"{name}: wrong final book; its timings do not count")
    return {"big_ns": elapsed / (len(messages) * 10) * 1e9}


def child(name: str, messages: int) -> dict[str, float]:
    out = _book_rows(name, messages)
    if name != "orjson.loads":
        out.update(_symbols_rows(name, messages))
        out.update(_big_rows(name, messages))
    return out


# (key, label, higher is better, goal kind, goal value)
ROWS: list[tuple[str, str, bool]] = [
    ("apply_ns", "Binance 5,000/side, apply only (pre-decoded), ns per level change", False),
    ("decode_fraction", "decode + apply, msgs/s as a fraction of orjson.loads alone", True),
    ("read_msgs", "apply + top-10 read after every message, msgs/s", True),
    ("top_ns", "one top-10 sorted() read after an update (dicts), ns", False),
    ("levels_ns", "one top-10 raw read after an update (levels()), ns", False),
    ("symbols_msgs", "1,000 symbols x 50 levels, interleaved, msgs/s", True),
    ("kib", "memory per symbol, 50+50 levels, KiB", False),
    ("big_ns", "one book of 100,000 levels, uniform changes, ns per change", False),
]


def _goal(key: str, ours: float, best: float | None) -> tuple[str, bool | None]:
    if key == "decode_fraction":
        return ">= 0.5x", ours >= 0.5
    if key == "read_msgs":
        return ">= 1.2x best peer", None if best is None else ours >= 1.2 * best
    if key == "top_ns":
        return "<= 2,000 ns", ours <= 2000
    if best is None:
        return "<= best peer", None
    if key in ("symbols_msgs",):
        return ">= best peer", ours >= best
    return "<= best peer", ours <= best


def _median_spread(values: list[float]) -> tuple[float, float]:
    median = statistics.median(values)
    worst = max(abs(v - median) for v in values)
    return median, worst / median if median else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.issue17")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="end to end at 5,000 msgs/s")
    parser.add_argument("--quick", action="store_true", help="1 round, 10,000 messages, 3 s")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.messages)))
        return
    if args.quick:
        args.rounds, args.messages, args.seconds = 1, 10_000, 3.0
    bookside._stream(5000, args.messages)  # generated once, outside every timing
    names = [n for n, m in NAMES.items() if m is None or importlib.util.find_spec(m)]
    skipped = [n for n in NAMES if n not in names]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    e2e: list[dict[str, Any]] = []
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            arguments = ["--child", name, "--messages", str(args.messages)]
            result = run_child("benchmarks.issue17", arguments, pure=name == "datastores-pure")
            runs[name].append(result)
            print(f"  round {round_ + 1}: {name}", file=sys.stderr, flush=True)
        paced = endtoend.run(5000, args.seconds)
        unlimited = endtoend.run(0, 0)
        e2e.append({"paced": paced, "unlimited": unlimited})
    floor = [r["decode_msgs"] for r in runs["orjson.loads"]]
    for name in names:
        if name != "orjson.loads":
            for r, f in zip(runs[name], floor, strict=True):
                r["decode_fraction"] = r["decode_msgs"] / f

    print(
        f"issue 17, python {platform.python_version()} on {platform.machine()}, "
        f"{args.rounds} rounds, {args.messages:,} messages, medians of CPU time; load "
        f"{os.getloadavg()[0]:.1f} at the end on {os.cpu_count()} cores"
        + (f"; not installed: {', '.join(skipped)}" if skipped else "")
    )
    header = (
        f"{'row':<68}{'datastores':>12}{'spread':>7}{'pure':>11}{'best peer':>22}{'ratio':>8}  goal"
    )
    print(header + "\n" + "-" * len(header))
    for key, label, higher in ROWS:
        ours, spread = _median_spread([r[key] for r in runs["datastores"]])
        pure = statistics.median(r[key] for r in runs["datastores-pure"])
        peers = {
            p: statistics.median(r[key] for r in runs[p])
            for p in PEERS
            if p in runs and key in runs[p][0]
        }
        if key == "levels_ns":
            peers = {p: statistics.median(r["top_ns"] for r in runs[p]) for p in PEERS if p in runs}
        best_name = None
        if peers and key not in ("decode_fraction",):
            best_name = (max if higher else min)(peers, key=lambda p: peers[p])
        best = peers[best_name] if best_name else None
        if key == "decode_fraction":
            best_name = max(peers, key=lambda p: peers[p]) if peers else None
            best = peers[best_name] if best_name else None
        ratio = "" if best is None else f"{(ours / best if higher else best / ours):.2f}x"
        goal, met = _goal(key, ours, best)
        peer_text = "-" if best is None else f"{best:,.1f} {best_name}"
        verdict = {True: "MET", False: "not met", None: "?"}[met]
        if key == "decode_fraction":
            peer_text = "-" if best is None else f"{best:.2f} {best_name}"
            ours_text, pure_text = f"{ours:.2f}", f"{pure:.2f}"
        else:
            ours_text, pure_text = f"{ours:,.1f}", f"{pure:,.1f}"
        print(
            f"{label:<68}{ours_text:>12}{spread:>7.0%}{pure_text:>11}{peer_text:>22}"
            f"{ratio:>8}  {goal}: {verdict}"
        )
    p999 = [e["paced"]["p999_ms"] for e in e2e]
    top = [e["unlimited"]["msgs_per_s"] for e in e2e]
    cpu_paced = [e["paced"]["cpu_us_per_msg"] for e in e2e]
    cpu_top = [e["unlimited"]["cpu_us_per_msg"] for e in e2e]
    share = [e["unlimited"]["cpu_share"] for e in e2e]
    m, s = _median_spread(p999)
    print(
        f"{'loopback end to end, p99.9 send -> wait() at 5,000 msgs/s, ms':<68}{m:>12.3f}{s:>7.0%}"
        f"{'':>41}  <= 2 ms: {'MET' if m <= 2 else 'not met'} "
        f"(rounds: {', '.join(f'{v:.2f}' for v in p999)}; client "
        f"{statistics.median(cpu_paced):.1f} µs CPU/msg)"
    )
    m, s = _median_spread(top)
    print(
        f"{'maximum sustained rate, one client core (unlimited sender), msgs/s':<68}{m:>12,.0f}"
        f"{s:>7.0%}{'':>41}  >= 100,000: {'MET' if m >= 100_000 else 'not met'} "
        f"(client {statistics.median(share):.0%} of a core, "
        f"{statistics.median(cpu_top):.2f} µs CPU/msg)"
    )
    print(
        "ratio: datastores against the best peer, above 1 is better; spread: the worst round "
        "against the median; decode + apply's best peer is the peer's own fraction"
    )


if __name__ == "__main__":
    main()
