"""``datastores mirror``: rebuild a relayed order book from NATS JetStream and show it live."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

from .._view import ViewState, make_renderer
from . import run_until_interrupted
from ._targets import get_target
from .relay import nats_options

__all__ = ["run", "run_mirror"]


async def run_mirror(args: argparse.Namespace, stop: asyncio.Event) -> int:
    """Follow the relay until ``--seconds`` or Ctrl-C; returns the exit code."""
    from ..apps.relay import Mirror
    from ..apps.relay._connect import redact_url

    target = get_target(args.exchange, args.symbol)
    renderer = make_renderer(args.view)
    events: list[tuple[float, str]] = []
    started = time.monotonic()

    def event(text: str) -> None:
        elapsed = time.monotonic() - started
        events.append((elapsed, text))
        del events[:-200]
        renderer.event(elapsed, text)

    mirror = Mirror(
        target.create_store(),
        servers=args.server,
        credentials=args.creds,
        connect_options=nats_options(args),
        name=args.name,
    )
    last_state = ""

    def on_change(m: Mirror) -> None:
        nonlocal last_state
        status = m.status()
        if status.state != last_state:
            last_state = status.state
            detail = f" at relay sequence {status.sequence}" if status.synced else ""
            reason = f" ({status.reason})" if not status.synced and status.reason else ""
            event(f"mirror {status.state}{detail}{reason}")

    mirror.add_listener(on_change)
    title = f"datastores mirror: {target.label} {target.symbol} <- {redact_url(args.server)}"
    samples: list[tuple[float, int]] = []
    try:
        async with mirror:
            event(f"following {mirror.names.all_subjects}")
            book = mirror[target.book_name]
            while not stop.is_set():
                elapsed = time.monotonic() - started
                if args.seconds is not None and elapsed >= args.seconds:
                    break
                status = mirror.status()
                samples.append((elapsed, status.batches))
                del samples[:-10]
                span = elapsed - samples[0][0]
                rate = (status.batches - samples[0][1]) / span if span > 0 else 0.0
                asks, bids = book.levels(target.key, 10)
                book_status = book.status(target.key)
                renderer.frame(
                    ViewState(
                        title=title,
                        symbol=target.symbol,
                        elapsed=elapsed,
                        duration=args.seconds,
                        bids=[(str(level[0]), str(level[1])) for level in bids],
                        asks=[(str(level[0]), str(level[1])) for level in asks],
                        messages=status.batches,
                        rate=rate,
                        synced=book_status.synced,
                        gaps=status.gaps,
                        resyncs=status.resyncs,
                        last_error=None if status.synced else status.reason,
                        events=list(events),
                    )
                )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), renderer.interval)
            final = mirror.status()
    finally:
        renderer.close()
    print(
        f"mirror: {final.batches} batches applied, {final.snapshots} snapshots, "
        f"{final.gaps} gaps, {final.resyncs} resyncs; "
        f"summary: synced={'yes' if final.synced else 'no'} sequence={final.sequence}",
        flush=True,
    )
    return 0


def run(args: argparse.Namespace) -> int:
    """``datastores mirror``."""
    return run_until_interrupted(lambda stop: run_mirror(args, stop))
