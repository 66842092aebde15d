"""Import time of ``datastores`` next to ``aiohttp`` alone and ``pybotters``, in fresh interpreters.

Each sample is one new ``python`` process that times a single ``import`` statement with
``time.perf_counter`` (interpreter start-up excluded), so nothing is cached in
``sys.modules``; the OS file cache is warm after the first run of each target. The
targets run interleaved (round-robin), so a busy moment of the machine hits them alike.

Usage: ``python -m benchmarks.importtime [--runs N]`` (also run by ``python -m benchmarks``).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: label -> statement timed in a fresh interpreter
TARGETS: dict[str, str] = {
    "aiohttp": "import aiohttp",
    "datastores": "import datastores",
    "datastores + 1 exchange": "import datastores; datastores.BinanceSpotDataStore",
    "pybotters": "import pybotters",
}

_PROBE = """
import sys, time
start = time.perf_counter()
exec(compile({statement!r}, "<import>", "exec"))
elapsed = time.perf_counter() - start
print(elapsed, len(sys.modules))
"""


def sample(statement: str) -> tuple[float, int] | None:
    """One fresh-interpreter measurement: (seconds, modules loaded), ``None`` if it fails."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(statement=statement)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        return None
    seconds, modules = done.stdout.split()
    return float(seconds), int(modules)


def measure(runs: int) -> dict[str, tuple[float, float, int] | None]:
    """label -> (min ms, median ms, modules in ``sys.modules``), or ``None`` when not installed."""
    times: dict[str, list[float]] = {label: [] for label in TARGETS}
    modules: dict[str, int] = {}
    missing: set[str] = set()
    for label, statement in TARGETS.items():  # warm-up: OS file cache, .pyc files
        if sample(statement) is None:
            missing.add(label)
    for _ in range(runs):
        for label, statement in TARGETS.items():
            if label in missing:
                continue
            result = sample(statement)
            if result is None:
                missing.add(label)
                continue
            times[label].append(result[0] * 1000)
            modules[label] = result[1]
    return {
        label: None
        if label in missing or not times[label]
        else (min(times[label]), statistics.median(times[label]), modules[label])
        for label in TARGETS
    }


def report(runs: int) -> None:
    """Print the import-time table (min and median over ``runs`` fresh interpreters)."""
    results = measure(runs)
    header = f"{'import':<26}{'min ms':>10}{'median ms':>12}{'modules':>10}"
    print(f"\nimport time, {runs} fresh interpreters each:")
    print(header + "\n" + "-" * len(header))
    for label, result in results.items():
        if result is None:
            print(f"{label:<26}{'(not installed)':>32}")
            continue
        low, median, count = result
        print(f"{label:<26}{low:>10.1f}{median:>12.1f}{count:>10}")
    core, base = results["datastores"], results["aiohttp"]
    if core is not None and base is not None:
        print(f"  datastores minus aiohttp alone: {core[0] - base[0]:.1f} ms (min)")
    other = results["pybotters"]
    if core is not None and other is not None:
        print(f"  datastores vs pybotters: {core[0] / other[0]:.2f}x (min)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.importtime")
    parser.add_argument("--runs", type=int, default=20)
    report(parser.parse_args().runs)


if __name__ == "__main__":
    main()
