"""``datastores record``: write a live order-book stream and its snapshot to JSON lines."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

from .._errors import ConfigurationError, TransportError
from .._view import make_renderer
from ..apps.record import Recorder
from . import run_until_interrupted
from ._live import LiveSession, capture_library_logs, unreachable
from ._targets import get_target

__all__ = ["run", "run_record"]


async def run_record(args: argparse.Namespace, stop: asyncio.Event) -> int:
    """Record for ``--seconds`` (or until Ctrl-C); returns the exit code."""
    from .._client import Client
    from ..testing import FakeExchange

    target = get_target(args.exchange, args.symbol)
    renderer = make_renderer(args.view)
    meta = {"exchange": target.exchange, "symbol": target.symbol, "store": target.store_class}
    async with contextlib.AsyncExitStack() as stack:
        redirects: dict[str, str] = {}
        if args.fake:
            if target.fake_venue is None:
                raise ConfigurationError(f"no fake exchange for {args.exchange!r} yet")
            fake: Any = await stack.enter_async_context(
                FakeExchange(target.fake_venue, symbols=[target.market], rate=100.0)
            )
            for name, venue in fake.venues.items():
                venue.paused = name != target.fake_venue  # e.g. OKX demo trading: unread
            redirects = fake.redirects
        recorder = stack.enter_context(Recorder(args.output, meta=meta))
        stack.callback(renderer.close)
        session = LiveSession(
            target,
            renderer,
            title=f"datastores record: {target.label} {target.symbol} -> {args.output}",
            recorder=recorder,
            duration=args.seconds,
        )
        with capture_library_logs(session.event):
            client = await stack.enter_async_context(Client(redirects=redirects))
            try:
                await session.start(client)
            except TransportError as exc:
                if args.fake:
                    raise
                raise unreachable(target, "record", exc) from exc
            await session.run(stop)
            await session.close()
        counts = recorder.counts
    print(
        f"recorded {counts['ws']} messages, {counts['rest']} REST responses and "
        f"{counts['reconnect']} reconnects to {args.output}",
        flush=True,
    )
    return 0


def run(args: argparse.Namespace) -> int:
    """``datastores record``."""
    return run_until_interrupted(lambda stop: run_record(args, stop))
