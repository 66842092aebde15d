"""Before/after: the datastores contender of two checkouts, interleaved in one run.

Usage: ``python -m benchmarks.compare OTHER_CHECKOUT [--this CHECKOUT] [--rounds N] [--messages N]``
(``scripts/bench-compare REV`` makes the checkout of a git revision for you).

Each round runs the Binance depth workload (a: decode + apply, b: apply + top-10 read,
c: one top-10 read, memory) and the keyed-upsert workload once for this checkout and once
for the other, alternating which goes first, each in a fresh interpreter that imports
``datastores`` from its checkout and the measuring code from this one, so both are
measured the same way on the same machine at the same time. Prints the median of each
measure per checkout and the ratio (this / other).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .stream import generate

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
MEASURES = (
    ("a_msgs_per_s", "(a) decode + apply, msg/s", True),
    ("b_msgs_per_s", "(b) apply + sorted(10), msg/s", True),
    ("c_sorted_us", "(c) sorted(10), µs", False),
    ("memory_mib", "book memory, MiB", False),
    ("upserts_per_s", "keyed upserts/s", True),
)


def _child(bench_dir: Path, checkout: Path, args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.contenders", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=bench_dir,
        # The measuring code from this checkout (copied to bench_dir), datastores from
        # the measured one: PYTHONPATH comes before the installed (editable) package.
        # DATASTORES_PURE=1 passes through: the pure-Python book side of a checkout
        # that has the C extension built.
        env={
            "PYTHONPATH": f"{bench_dir}:{checkout}",
            "PATH": "/usr/bin:/bin",
            "DATASTORES_PURE": os.environ.get("DATASTORES_PURE", ""),
        },
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare")
    parser.add_argument("other", type=Path, help="the other checkout (its root directory)")
    parser.add_argument(
        "--this", type=Path, default=None, help="measure this checkout instead of this one"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--levels", type=int, default=5000)
    parser.add_argument("--upserts", type=int, default=100_000)
    args = parser.parse_args()
    this = args.this.resolve() if args.this is not None else HERE.parent
    other = args.other.resolve()
    for checkout in (this, other):
        if not (checkout / "datastores" / "__init__.py").exists():
            parser.error(f"{checkout} is not a datastores checkout")
    CACHE.mkdir(exist_ok=True)
    stream = CACHE / f"binance-depth-{args.levels}-{args.messages}.jsonl"
    if not stream.exists():
        generate(stream, levels=args.levels, messages=args.messages)
    results: dict[str, list[dict[str, Any]]] = {"this": [], "other": []}
    with tempfile.TemporaryDirectory() as tmp:
        bench_dir = Path(tmp)
        shutil.copytree(HERE, bench_dir / "benchmarks", ignore=shutil.ignore_patterns(".cache"))
        order = [("this", this), ("other", other)]
        for round_ in range(args.rounds):
            for label, checkout in order if round_ % 2 == 0 else order[::-1]:
                book = _child(bench_dir, checkout, ["book", "datastores", str(stream), "0", "1"])
                keyed = _child(bench_dir, checkout, ["keyed", "datastores", str(args.upserts), "1"])
                results[label].append({**book, **keyed})
            print(f"  round {round_ + 1}/{args.rounds} done", flush=True)
    print(f"\nthis: {this}\nother: {other}\n{args.rounds} interleaved rounds, medians:\n")
    print(f"{'measure':<32}{'this':>14}{'other':>14}{'this/other':>12}")
    for key, title, higher_is_better in MEASURES:
        mine = statistics.median(r[key] for r in results["this"])
        theirs = statistics.median(r[key] for r in results["other"])
        note = "" if higher_is_better else " (lower is better)"
        print(f"{title:<32}{mine:>14,.2f}{theirs:>14,.2f}{mine / theirs:>11.2f}x{note}")


if __name__ == "__main__":
    main()
