"""Instructions per Binance depth message, this checkout against another, under callgrind.

Usage: ``python -m benchmarks.instructions OTHER_CHECKOUT [--this CHECKOUT]
[--messages N] [--predecoded]`` (``scripts/bench-compare`` makes checkouts of git
revisions; ``git archive REV datastores | tar -x -C DIR`` does too).

Wall-clock timings on a shared machine move by several percent between runs, more
than a per-message change of 0.1 µs. Instruction counts do not: each checkout's
``BinanceSpotDataStore.onmessage`` is run under ``valgrind --tool=callgrind`` on the
first ``N/4`` and on the first ``N`` messages of the :mod:`benchmarks.stream` stream
(after its snapshot), and the difference divided by ``3N/4`` is the cost of one
message, start-up and imports cancelled out. Decoding with orjson is included
(the (a) workload) unless ``--predecoded``. ``--read sorted|levels`` counts one
top-10 read of the book instead (``N`` messages applied, then 0 and 2,000 reads).
Needs valgrind; slow (about 50x).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from .stream import SYMBOL, generate

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"

_CHILD = """
import sys, orjson
from datastores.exchanges.binance.store import BinanceSpotDataStore
path, count, predecoded, read = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[5]
raw = open(path, "rb").read().splitlines()
snapshot = orjson.loads(raw[0])
lines = raw[1 : 1 + int(sys.argv[4])]
store = BinanceSpotDataStore()
store.orderbook._on_snapshot(SYMBOL, snapshot["lastUpdateId"], snapshot["asks"], snapshot["bids"])
onmessage, loads = store.onmessage, orjson.loads
if read != "none":  # the book after every message, then `count` top-10 reads
    for line in lines:
        onmessage(loads(line))
    book, query = store.orderbook, {"s": SYMBOL}
    for _ in range(count):
        book.sorted(query, limit=10) if read == "sorted" else book.levels(SYMBOL, 10)
elif predecoded:
    messages = [loads(line) for line in lines]  # every run decodes all: cancels out
    for msg in messages[:count]:
        onmessage(msg)
else:
    for line in lines[:count]:
        onmessage(loads(line))
assert store.orderbook.status(SYMBOL).synced
"""


def count_instructions(
    checkout: Path, stream: Path, count: int, total: int, pre: bool, read: str = "none"
) -> int:
    """Instructions of one child process that feeds ``count`` messages (or, with
    ``read``, all ``total`` messages and then makes ``count`` top-10 reads)."""
    code = f"SYMBOL = {SYMBOL!r}\n" + _CHILD
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            code,
            str(stream),
            str(count),
            "1" if pre else "0",
            str(total),
            read,
        ],
        check=True,
        capture_output=True,
        text=True,
        # `python -c` puts the working directory first on sys.path: run in the checkout
        cwd=checkout,
        env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"},
    )
    match = re.search(r"Collected : (\d+)", out.stderr)
    if match is None:
        raise RuntimeError(f"no callgrind total in:\n{out.stderr[-2000:]}")
    return int(match.group(1))


def per_message(
    checkout: Path, stream: Path, messages: int, pre: bool, read: str = "none"
) -> float:
    count_instructions(checkout, stream, 0, messages, pre, read)  # writes the .pyc files
    if read != "none":
        low = count_instructions(checkout, stream, 0, messages, pre, read)
        high = count_instructions(checkout, stream, 2000, messages, pre, read)
        return (high - low) / 2000
    small = messages // 4
    low = count_instructions(checkout, stream, small, messages, pre)
    high = count_instructions(checkout, stream, messages, messages, pre)
    return (high - low) / (messages - small)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions")
    parser.add_argument("other", type=Path, help="the other checkout (its root directory)")
    parser.add_argument("--this", type=Path, default=None)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--levels", type=int, default=5000)
    parser.add_argument("--predecoded", action="store_true", help="leave decoding out")
    parser.add_argument(
        "--read",
        choices=("none", "sorted", "levels"),
        default="none",
        help="instead: one top-10 sorted() or levels() read of the book after the messages",
    )
    args = parser.parse_args()
    this = args.this.resolve() if args.this is not None else HERE.parent
    other = args.other.resolve()
    CACHE.mkdir(exist_ok=True)
    stream = CACHE / f"binance-depth-{args.levels}-200000.jsonl"
    if not stream.exists():
        generate(stream, levels=args.levels, messages=200_000)
    mine = per_message(this, stream, args.messages, args.predecoded, args.read)
    theirs = per_message(other, stream, args.messages, args.predecoded, args.read)
    what = "onmessage (pre-decoded)" if args.predecoded else "orjson.loads + onmessage"
    if args.read != "none":
        what = f"one {args.read}(limit 10) read"
    print(f"python {sys.version.split()[0]}, callgrind, {what}, instructions per call:")
    print(f"  this  {this}: {mine:,.0f}")
    print(f"  other {other}: {theirs:,.0f}")
    print(f"  this / other: {mine / theirs:.3f} (time ratio ~ its inverse: {theirs / mine:.3f}x)")


if __name__ == "__main__":
    main()
