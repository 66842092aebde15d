"""``datastores fmz``: run the FMZ Quant custom-protocol bridge."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import Any

from . import run_until_interrupted

__all__ = ["add_parser", "run", "run_fmz"]


def add_parser(sub: Any) -> None:
    """Register ``fmz`` on the subcommand parser ``sub``."""
    fmz = sub.add_parser(
        "fmz",
        help="serve the FMZ Quant custom protocol from live stores (see docs/fmz.md)",
        description="An HTTP server for FMZ Quant's agent ('Custom Protocol' exchanges): "
        "POST /OKX, /Binance, /BinanceFutures, /Bybit, /Bitget or /BitgetFutures. "
        "Listens on 127.0.0.1 unless told otherwise.",
    )
    fmz.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    fmz.add_argument("--port", type=int, default=6666, help="port (default 6666)")
    fmz.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than loopback (the agent sends secret keys in clear text)",
    )
    fmz.add_argument(
        "--allow-unsafe-api",
        action="store_true",
        help="let __api_ calls reach withdrawal and transfer endpoints",
    )
    fmz.add_argument("--timeout", type=float, default=10.0, help="seconds per request (10)")
    fmz.add_argument("--max-body", type=int, default=64 * 1024, help="bytes per request body")
    fmz.add_argument("--max-sessions", type=int, default=16, help="key pairs at once (16)")
    fmz.add_argument(
        "--idle-timeout",
        type=float,
        default=600.0,
        help="seconds after which an unused key pair's session may be replaced (600)",
    )
    fmz.add_argument(
        "--fake",
        action="store_true",
        help="serve the built-in fake OKX, Binance, Bybit and Bitget (offline, test keys)",
    )
    fmz.add_argument("--seconds", type=float, default=None, help="stop after N seconds")


async def run_fmz(args: argparse.Namespace, stop: asyncio.Event) -> int:
    """Serve until ``stop`` (Ctrl-C) or ``--seconds``; returns the exit code."""
    from ..apps.fmz.fake import fake_bridge
    from ..apps.fmz.server import FMZBridge, is_loopback

    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "allow_remote": args.allow_remote,
        "allow_unsafe_api": args.allow_unsafe_api,
        "request_timeout": args.timeout,
        "max_body": args.max_body,
        "max_sessions": args.max_sessions,
        "idle_timeout": args.idle_timeout,
    }
    if not is_loopback(args.host):
        if not args.allow_remote:
            print(
                f"datastores fmz: refusing to listen on {args.host}: FMZ's agent sends the "
                "secret key in clear text; add --allow-remote to do it anyway",
                file=sys.stderr,
            )
            return 2
        print(
            f"WARNING: listening on {args.host}: anyone who can reach this port can trade "
            "with the keys sent to it, and keys travel in clear text. Use a firewall or a "
            "TLS tunnel.",
            file=sys.stderr,
            flush=True,
        )
    async with contextlib.AsyncExitStack() as stack:
        if args.fake:
            running = await stack.enter_async_context(fake_bridge(**options))
            bridge = running.bridge
        else:
            bridge = await stack.enter_async_context(FMZBridge(**options))
        names = ", ".join(f"{bridge.url}/{cls.name}" for cls in bridge.adapters.values())
        print(f"datastores fmz: serving {names}", flush=True)
        if args.fake:
            _print_fake_hint(bridge.url)
        try:
            await asyncio.wait_for(stop.wait(), args.seconds)
        except asyncio.TimeoutError:
            pass
    return 0


def _print_fake_hint(url: str) -> None:
    """The fake exchanges' keys and one ``curl`` per route."""
    from ..apps.fmz.fake import FAKE_KEYS

    keys = "; ".join(f"{name}: {a} / {s}" for name, (a, s) in FAKE_KEYS.items())
    print(f"fake exchanges (offline), keys (access / secret): {keys}", flush=True)
    print("Try:", flush=True)
    for name, (key, secret) in FAKE_KEYS.items():
        symbol = "BTC_USDT.swap" if name.endswith("Futures") else "BTC_USDT"
        print(
            f'  curl -s -d \'{{"access_key": "{key}", "secret_key": "{secret}", '
            f'"method": "depth", "nonce": 0, "params": {{"symbol": "{symbol}", '
            f'"limit": "5"}}}}\' {url}/{name}',
            flush=True,
        )


def run(args: argparse.Namespace) -> int:
    """``datastores fmz``."""
    return run_until_interrupted(lambda stop: run_fmz(args, stop))
