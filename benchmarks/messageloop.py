"""Whole Binance depth messages, this tree against an earlier commit, in one process.

Usage: ``python -m benchmarks.messageloop [--before REV] [--messages N] [--repeats N]
[--decode]`` (default ``--before HEAD``).

The ``datastores`` package of ``REV`` is extracted (``git archive``) under another
name (its imports are relative) and imported next to this tree's, so both run in
the same interpreter, interleaved round by round: load on a shared machine hits
both alike, which separate processes cannot promise. Each round feeds the
:mod:`benchmarks.stream` messages to a fresh ``BinanceSpotDataStore.onmessage``
after its snapshot, pre-decoded (``--decode``: ``orjson.loads`` in the loop too),
timed in CPU time. Prints min and median µs per message and the ratio of the
minimums (before / after: above 1 means this tree is faster).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .stream import SYMBOL, generate

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"


def _extract(rev: str, into: Path, name: str) -> None:
    """``datastores/`` of ``rev`` as package ``name`` under ``into``."""
    archive = subprocess.run(
        ["git", "archive", rev, "datastores"], check=True, capture_output=True, cwd=ROOT
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    (into / "datastores").rename(into / name)


def _store_class(package: str) -> Any:
    return importlib.import_module(f"{package}.exchanges.binance.store").BinanceSpotDataStore


def _run(cls: Any, snapshot: dict[str, Any], messages: list[Any], loads: Any) -> float:
    store = cls()
    book = store.orderbook
    book._on_snapshot(SYMBOL, snapshot["lastUpdateId"], snapshot["asks"], snapshot["bids"])
    onmessage: Callable[[Any], None] = store.onmessage
    gc.collect()
    if loads is None:
        start = time.process_time()
        for msg in messages:
            onmessage(msg)
    else:
        start = time.process_time()
        for line in messages:
            onmessage(loads(line))
    elapsed = time.process_time() - start
    status = book.status(SYMBOL)
    assert status.synced, status
    assert status.gaps == status.errors == 0, status
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.messageloop")
    parser.add_argument("--before", default="HEAD", help="git revision to compare with")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--levels", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--decode", action="store_true", help="orjson.loads in the loop")
    args = parser.parse_args()
    import orjson

    CACHE.mkdir(exist_ok=True)
    stream = CACHE / f"binance-depth-{args.levels}-200000.jsonl"
    if not stream.exists():
        generate(stream, levels=args.levels, messages=200_000)
    lines = stream.read_bytes().splitlines()[: args.messages + 1]
    snapshot = orjson.loads(lines[0])
    loads = orjson.loads if args.decode else None
    messages: list[Any] = lines[1:] if args.decode else [orjson.loads(x) for x in lines[1:]]

    with tempfile.TemporaryDirectory() as tmp:
        _extract(args.before, Path(tmp), "_datastores_before")
        sys.path.insert(0, tmp)
        versions = {
            f"before ({args.before})": _store_class("_datastores_before"),
            "after (tree)": _store_class("datastores"),
        }
        times: dict[str, list[float]] = {name: [] for name in versions}
        for cls in versions.values():  # warm-up
            _run(cls, snapshot, messages[:5000], loads)
        for round_ in range(args.repeats):
            order = list(versions.items())
            for name, cls in order if round_ % 2 == 0 else order[::-1]:
                times[name].append(_run(cls, snapshot, messages, loads))

    what = "orjson.loads + onmessage" if args.decode else "onmessage (pre-decoded)"
    print(f"python {sys.version.split()[0]}: {len(messages)} messages, {what}, CPU time")
    best = {}
    for name, runs in times.items():
        runs.sort()
        best[name] = runs[0]
        median = runs[len(runs) // 2]
        per = 1e6 / len(messages)
        print(f"  {name:<24} min {runs[0] * per:.3f} µs  median {median * per:.3f} µs per message")
    before, after = best.values()
    print(f"before / after (min): {before / after:.3f}x")


if __name__ == "__main__":
    main()
