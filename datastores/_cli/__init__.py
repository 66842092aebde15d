"""The ``datastores`` command line: ``demo``, ``watch``, ``record``, ``replay``, ``fmz``,
``relay``, ``mirror``.

Subcommand modules are imported only when used, so ``--help`` and the demo
start fast.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import platform
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

__all__ = ["build_parser", "main", "run_until_interrupted"]


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (subcommands and their options)."""
    from ._targets import DEFAULT_SYMBOLS, TARGETS

    exchanges = ", ".join(TARGETS)
    # The per-exchange details in the help come from the exchanges' own targets.
    targets = [factory(DEFAULT_SYMBOLS[name]) for name, factory in TARGETS.items()]
    with_checksum = " and ".join(t.label.split()[0] for t in targets if t.checksum)
    symbols = "; ".join(f"{t.exchange} {t.symbol}" for t in targets)
    rates = "; ".join(f"{t.exchange} {t.fake_rate:g}" for t in targets)
    parser = argparse.ArgumentParser(
        prog="datastores",
        description="Real-time in-memory views of crypto exchanges: order books you can trust.",
    )
    from .. import __version__

    parser.add_argument(
        "--version",
        action="version",
        version=f"datastores {__version__} (Python {platform.python_version()})",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    view_help = "auto (default: rich or ANSI on a terminal, lines otherwise), rich, ansi, plain"

    demo = sub.add_parser(
        "demo",
        help="offline demo: a live, self-healing order book from a built-in fake exchange",
        description="Start a fake exchange in-process, follow its order book with the real "
        "client and store, inject a sequence gap (and, for "
        f"{with_checksum}, a wrong checksum) "
        "and a disconnect, and watch the book heal. No network, no keys.",
    )
    demo.add_argument(
        "--exchange",
        default="binance",
        help=f"exchange (default binance): {exchanges}",
    )
    demo.add_argument("--symbol", default=None, help=f"symbol (default: {symbols})")
    demo.add_argument("--seconds", type=_positive, default=20.0, help="run time (default 20)")
    demo.add_argument(
        "--rate",
        type=_positive,
        default=None,
        help=f"book updates per second (default: {rates})",
    )
    demo.add_argument("--seed", type=int, default=7, help="market seed (default 7)")
    demo.add_argument("--view", default="auto", help=view_help)
    demo.add_argument(
        "--plot",
        metavar="FILE",
        default=None,
        help="also draw the run (mid, spread, faults, gaps, resyncs) to FILE (.png, .svg, .pdf); "
        "needs matplotlib: pip install 'datastores[plot]'",
    )
    demo.add_argument(
        "--svg",
        metavar="FILE",
        default=None,
        help="also save the final screen as an SVG image; "
        "needs rich: pip install 'datastores[view]'",
    )

    watch = sub.add_parser(
        "watch",
        help="live order book from the real exchange (needs the internet, no keys)",
        description="Follow a real exchange's public order book with the same live view.",
    )
    watch.add_argument("exchange", help=f"exchange: {exchanges}")
    watch.add_argument(
        "symbol", nargs="?", default=None, help="symbol, e.g. btcusdt (default BTCUSDT)"
    )
    watch.add_argument("--seconds", type=_positive, default=None, help="stop after N seconds")
    watch.add_argument("--view", default="auto", help=view_help)

    record = sub.add_parser(
        "record",
        help="record a live order-book stream to a JSON-lines file (.gz to compress)",
    )
    record.add_argument("exchange", help=f"exchange: {exchanges}")
    record.add_argument("symbol", help="symbol, e.g. btcusdt")
    record.add_argument("output", help="output file, e.g. btcusdt.jsonl.gz")
    record.add_argument("--seconds", type=_positive, default=60.0, help="run time (default 60)")
    record.add_argument(
        "--fake", action="store_true", help="record from the built-in fake exchange (offline)"
    )
    record.add_argument("--view", default="plain", help=view_help + " (default plain)")

    replay = sub.add_parser("replay", help="replay a recording into a store and show the result")
    replay.add_argument("file", help="a recording (JSON lines, .gz allowed)")
    replay.add_argument(
        "store",
        nargs="?",
        default=None,
        help="DataStoreCollection class, e.g. BinanceSpotDataStore (default: from the file)",
    )
    replay.add_argument(
        "--speed", type=_positive, default=None, help="1.0 = recorded speed (default: fastest)"
    )
    from .fmz import add_parser as add_fmz

    add_fmz(sub)
    _add_relay_commands(sub, exchanges, view_help)
    return parser


def _add_relay_commands(sub: Any, exchanges: str, view_help: str) -> None:
    """``relay`` and ``mirror`` (NATS JetStream, needs the ``nats`` extra)."""
    from .relay import add_nats_arguments

    relay = sub.add_parser(
        "relay",
        help="publish a live order book onto NATS JetStream (--fake: offline, own nats-server)",
        description="Follow an exchange's order book and publish every change onto NATS "
        "JetStream, with snapshots in a key-value bucket; `datastores mirror` rebuilds it "
        "elsewhere. See docs/relay.md.",
    )
    relay.add_argument("exchange", help=f"exchange: {exchanges}")
    relay.add_argument("symbol", nargs="?", default=None, help="symbol (default BTCUSDT)")
    relay.add_argument(
        "--fake",
        action="store_true",
        help="the built-in fake exchange; starts a local nats-server if none listens",
    )
    relay.add_argument("--rate", type=_positive, default=100.0, help="fake updates/s (100)")
    relay.add_argument("--seconds", type=_positive, default=None, help="stop after N seconds")
    relay.add_argument("--view", default="plain", help=view_help + " (default plain)")
    add_nats_arguments(relay)

    mirror = sub.add_parser(
        "mirror",
        help="rebuild a relayed order book from NATS JetStream and show it live",
    )
    mirror.add_argument("exchange", help=f"exchange: {exchanges}")
    mirror.add_argument("symbol", nargs="?", default=None, help="symbol (default BTCUSDT)")
    mirror.add_argument("--seconds", type=_positive, default=None, help="stop after N seconds")
    mirror.add_argument("--view", default="auto", help=view_help)
    add_nats_arguments(mirror)


def run_until_interrupted(
    command: Callable[[asyncio.Event], Awaitable[int]],
) -> int:
    """Run ``command(stop)`` in a new event loop; Ctrl-C sets ``stop`` (once).

    A second Ctrl-C interrupts at once.
    """

    async def runner() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        installed = False

        def on_sigint() -> None:
            stop.set()
            # The next Ctrl-C is the default one: interrupt now.
            loop.remove_signal_handler(signal.SIGINT)

        try:
            loop.add_signal_handler(signal.SIGINT, on_sigint)
            installed = True
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # Windows, or not the main thread: Ctrl-C raises KeyboardInterrupt.
        try:
            code = await command(stop)
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGINT)
        # Everything the command started must be finished by now; say so if not
        # (the demo's test fails on it).
        current = asyncio.current_task()
        leftover = sorted(t.get_name() for t in asyncio.all_tasks() if t is not current)
        if leftover:
            print(
                f"Warning: {len(leftover)} task(s) still running at exit: {', '.join(leftover)}",
                file=sys.stderr,
            )
        return code

    try:
        return asyncio.run(runner())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``datastores`` and ``python -m datastores``. Returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module: Any = importlib.import_module(f"{__name__}.{args.command}")
    from .._errors import DatastoresError

    try:
        code: int = module.run(args)
    except DatastoresError as exc:
        print(f"datastores {args.command}: {exc}", file=sys.stderr)
        return 1
    return code
