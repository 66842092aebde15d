"""``datastores watch``: the live view on a real exchange's public stream (needs the internet).

Offline, the first connection fails after the WebSocketApp's few attempts and
the command exits with code 1 and a message saying so (and suggesting
``datastores demo --exchange ...``).
"""

from __future__ import annotations

import argparse
import asyncio

from .._errors import TransportError
from .._view import make_renderer
from . import run_until_interrupted
from ._live import LiveSession, capture_library_logs, unreachable
from ._targets import get_target

__all__ = ["run", "run_watch"]


async def run_watch(args: argparse.Namespace, stop: asyncio.Event) -> int:
    """Follow the real book until ``--seconds`` or Ctrl-C; returns the exit code."""
    from .._client import Client

    target = get_target(args.exchange, args.symbol)
    renderer = make_renderer(args.view)
    try:
        session = LiveSession(
            target,
            renderer,
            title=f"datastores watch: {target.label} {target.symbol} (live)",
            duration=args.seconds,
        )
        with capture_library_logs(session.event):
            async with Client() as client:
                try:
                    await session.start(client)
                except TransportError as exc:
                    raise unreachable(target, "watch", exc) from exc
                await session.run(stop)
                summary = session.summary()
                await session.close()
    finally:
        renderer.close()
    print(summary.text(), flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    """``datastores watch``."""
    return run_until_interrupted(lambda stop: run_watch(args, stop))
