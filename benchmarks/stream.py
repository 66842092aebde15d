"""A seeded synthetic Binance Spot depth stream: one REST snapshot, then diffs.

The snapshot has ``levels`` price levels a side around a mid price; each diff
changes 1-20 levels near the top of the book, about 20% of them deletions of
existing levels, with ``U``/``u`` continuous as on the real stream. Prices are
formatted with a fixed number of decimals, as Binance does, so string-keyed
stores see one key per price.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SYMBOL = "BTCUSDT"
TICK = 0.01


def _fmt(price_ticks: int) -> str:
    return f"{price_ticks * TICK:.2f}"


def generate(path: Path, *, seed: int = 42, levels: int = 5000, messages: int = 200_000) -> Path:
    """Write the snapshot (first line) and ``messages`` diffs as JSON lines to ``path``."""
    rng = random.Random(seed)
    mid = 3_000_000  # in ticks: 30000.00
    asks = {mid + 1 + i: f"{rng.uniform(0.001, 5):.5f}" for i in range(levels)}
    bids = {mid - 1 - i: f"{rng.uniform(0.001, 5):.5f}" for i in range(levels)}
    update_id = 1_000_000
    lines = [
        json.dumps(
            {
                "lastUpdateId": update_id,
                "bids": [[_fmt(p), q] for p, q in sorted(bids.items(), reverse=True)],
                "asks": [[_fmt(p), q] for p, q in sorted(asks.items())],
            },
            separators=(",", ":"),
        )
    ]
    time_ms = 1_700_000_000_000
    for _ in range(messages):
        changes = rng.randint(1, 20)
        side_a: list[list[str]] = []
        side_b: list[list[str]] = []
        best_ask = min(asks)
        best_bid = max(bids)
        for _ in range(changes):
            is_ask = rng.random() < 0.5
            book, out = (asks, side_a) if is_ask else (bids, side_b)
            offset = int(rng.expovariate(1 / 8))
            price = best_ask + offset if is_ask else best_bid - offset
            if rng.random() < 0.2 and price in book and len(book) > levels // 2:
                del book[price]
                out.append([_fmt(price), "0.00000000"])
            else:
                size = f"{rng.uniform(0.001, 5):.8f}"
                book[price] = size
                out.append([_fmt(price), size])
        first = update_id + 1
        update_id += rng.randint(1, 3)
        time_ms += rng.randint(1, 100)
        lines.append(
            json.dumps(
                {
                    "e": "depthUpdate",
                    "E": time_ms,
                    "s": SYMBOL,
                    "U": first,
                    "u": update_id,
                    "b": side_b,
                    "a": side_a,
                },
                separators=(",", ":"),
            )
        )
    path.write_text("\n".join(lines) + "\n")
    return path
