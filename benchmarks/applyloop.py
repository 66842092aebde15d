"""The order-book apply loop alone, this tree against an earlier commit, in one run.

Usage: ``python -m benchmarks.applyloop [--before REV] [--messages N] [--repeats N]``
(default ``--before HEAD``: the last commit, so an uncommitted change is compared
with what it changes). Both versions of ``datastores/_bookside.py`` are loaded
in this process (the old one from ``git show``); the Binance depth stream of
:mod:`benchmarks.stream` is decoded once, then its level lists are applied to a
fresh side pair by each version in turn, interleaved, so load on the machine
hits both alike. Prints min and median seconds per version and the ratio last.
JSON decoding, dispatch and the integrity state machine are not in the timing:
only ``apply_levels``, where per-level validation costs what it costs.

Both loaded versions are the pure-Python ones (a module loaded from source has
no package to import the C extension from); with ``--native`` the C extension
(``datastores._cbookside``, when built) runs as a third version, and the last
line also gives native / after.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from .stream import generate

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"


def _load(name: str, source: str) -> ModuleType:
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclass/typing machinery looks modules up
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def _run(module: ModuleType, snapshot: dict[str, Any], diffs: list[Any]) -> float:
    apply_levels = module.apply_levels
    asks, bids = module.Side(), module.Side()
    apply_levels(asks, snapshot["asks"], 1.0)
    apply_levels(bids, snapshot["bids"], -1.0)
    gc.collect()
    start = time.process_time()
    for a, b in diffs:
        if a:
            apply_levels(asks, a, 1.0)
        if b:
            apply_levels(bids, b, -1.0)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.applyloop")
    parser.add_argument("--before", default="HEAD", help="git revision to compare with")
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--levels", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--native", action="store_true", help="also time the C extension")
    args = parser.parse_args()

    CACHE.mkdir(exist_ok=True)
    stream = CACHE / f"binance-depth-{args.levels}-{args.messages}.jsonl"
    if not stream.exists():
        generate(stream, levels=args.levels, messages=args.messages)
    lines = stream.read_bytes().splitlines()
    snapshot = json.loads(lines[0])
    diffs = [(m["a"], m["b"]) for m in map(json.loads, lines[1:])]
    levels = sum(len(a) + len(b) for a, b in diffs)

    old_source = subprocess.run(
        ["git", "show", f"{args.before}:datastores/_bookside.py"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    versions = {
        f"before ({args.before})": _load("_bookside_before", old_source),
        "after (tree)": _load("_bookside_after", (ROOT / "datastores/_bookside.py").read_text()),
    }
    if args.native:
        from datastores import _bookside, _cbookside  # ImportError: not built (no compiler)

        _cbookside._setup(_bookside.check_level, _bookside.malformed, _bookside.MAX_VALUE)
        versions["native (tree)"] = _cbookside
    times: dict[str, list[float]] = {name: [] for name in versions}
    for module in versions.values():  # warm-up
        _run(module, snapshot, diffs[:5000])
    for _ in range(args.repeats):
        for name, module in versions.items():
            times[name].append(_run(module, snapshot, diffs))

    print(f"python {sys.version.split()[0]}: {len(diffs)} diffs, {levels} levels applied")
    best = {}
    for name, runs in times.items():
        runs.sort()
        best[name] = runs[0]
        median = runs[len(runs) // 2]
        print(
            f"  {name:<20} min {runs[0]:.3f} s  median {median:.3f} s  "
            f"{levels / runs[0] / 1e6:.2f} M levels/s  {runs[0] / levels * 1e9:.0f} ns/level"
        )
    before, after, *native = best.values()
    print(f"after / before (min): {after / before:.3f}")
    if native:
        print(f"native / after (min): {native[0] / after:.3f}")


if __name__ == "__main__":
    main()
