"""Decode + apply per Binance depth message: the decoders side by side, CPU-time medians.

Usage: ``python -m benchmarks.decoding [--rounds N] [--messages N]``.

On the :mod:`benchmarks.stream` stream (5,000 levels a side, after its snapshot), in one
process and interleaved round by round, each row a fresh ``BinanceSpotDataStore``:

* ``orjson.loads`` alone (the floor issue 17 divides by);
* ``_json.loads`` + ``onmessage``: the decoder before ``loads_levels`` (lists);
* ``decoder_for([store.onmessage])`` + ``onmessage``: what a WebSocketApp uses now
  (Levels straight from the text with the native side);
* ``loads_levels`` alone, and ``onmessage`` on messages decoded before the clock starts.

Prints the median (and min) µs per message and msgs/s as a fraction of ``orjson.loads``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .stream import SYMBOL, generate


def _rows(lines: list[bytes], snapshot: dict[str, Any]) -> dict[str, Callable[[], float]]:
    import orjson

    from datastores import _json
    from datastores._ws.protocol import decoder_for, default_decode_text
    from datastores.exchanges.binance.store import BinanceSpotDataStore

    def fresh() -> BinanceSpotDataStore:
        store = BinanceSpotDataStore()
        store.orderbook._on_snapshot(
            SYMBOL, snapshot["lastUpdateId"], snapshot["asks"], snapshot["bids"]
        )
        return store

    def decode_only(loads: Callable[[bytes], Any]) -> Callable[[], float]:
        def run() -> float:
            start = time.process_time()
            for line in lines:
                loads(line)
            return time.process_time() - start

        return run

    def decode_and_apply(
        make_loads: Callable[[Any], Callable[[bytes], Any]],
    ) -> Callable[[], float]:
        def run() -> float:
            store = fresh()
            onmessage, loads = store.onmessage, make_loads(store)
            start = time.process_time()
            for line in lines:
                onmessage(loads(line))
            elapsed = time.process_time() - start
            assert store.orderbook.status(SYMBOL).synced
            return elapsed

        return run

    def apply_only() -> float:
        store = fresh()
        onmessage = store.onmessage
        decode = decoder_for([onmessage])
        messages = [decode(line) for line in lines]
        start = time.process_time()
        for message in messages:
            onmessage(message)
        return time.process_time() - start

    rows = {
        "orjson.loads alone": decode_only(orjson.loads),
        "_json.loads + onmessage (before)": decode_and_apply(lambda store: _json.loads),
        "decoder_for + onmessage (now)": decode_and_apply(
            lambda store: decoder_for([store.onmessage])
        ),
        "onmessage alone (decoded by decoder_for)": apply_only,
    }
    from datastores._bookside import NATIVE

    if not NATIVE:  # DATASTORES_PURE=1 or no extension: decoder_for keeps _json.loads
        return rows
    from datastores._cbookside import loads_levels

    rows["loads_levels alone"] = decode_only(lambda line: loads_levels(line, default_decode_text))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = generate(Path(folder) / "stream.jsonl", messages=args.messages)
        raw = path.read_bytes().splitlines()
    snapshot, lines = json.loads(raw[0]), raw[1:]
    rows = _rows(lines, snapshot)
    times: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(args.rounds):
        for name, run in rows.items():
            times[name].append(run() / len(lines) * 1e6)
    floor = statistics.median(times["orjson.loads alone"])
    print(f"{len(lines):,} messages, {args.rounds} rounds, CPU time per message")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"{name:44s} median {median:6.3f} µs  min {min(values):6.3f} µs  "
            f"{floor / median:5.2f}x orjson.loads msgs/s"
        )


if __name__ == "__main__":
    main()
