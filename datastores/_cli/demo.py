"""``datastores demo``: a fake exchange, the real client and store, faults, self-healing."""

from __future__ import annotations

import argparse
import asyncio
import sys

from .._errors import ConfigurationError
from .._view import make_renderer
from . import run_until_interrupted
from ._live import Action, LiveSession, capture_library_logs
from ._targets import get_target

__all__ = ["run", "run_demo"]

#: levels compared with the exchange's book at the end (within the snapshot depth)
CHECK_DEPTH = 100


async def run_demo(args: argparse.Namespace, stop: asyncio.Event) -> int:
    """The demo itself; returns the exit code (0: the book ended synced and correct)."""
    from .._client import Client
    from ..testing import FakeExchange

    target = get_target(args.exchange, args.symbol)
    if target.fake_venue is None:
        raise ConfigurationError(f"no fake exchange for {args.exchange!r} yet")
    renderer = make_renderer(args.view)
    seconds = float(args.seconds)
    session: LiveSession | None = None
    try:
        async with FakeExchange(
            target.fake_venue, seed=args.seed, symbols=[target.symbol], rate=args.rate
        ) as fake:
            venue = fake.venues[target.fake_venue]
            session = LiveSession(
                target,
                renderer,
                title=f"datastores demo: {target.label} {target.symbol} "
                f"(fake exchange on {venue.url[len('http://') :]}, offline)",
                duration=seconds,
            )
            with capture_library_logs(session.event):
                session.event(
                    f"fake {target.label} started: {args.rate:g} book updates/s, seed {args.seed}"
                )
                async with Client(redirects=fake.redirects) as client:
                    await session.start(client)
                    actions = [
                        Action(
                            0.35 * seconds,
                            lambda: fake.skip_sequence(target.symbol),
                            "fault: the exchange skips a sequence id",
                        ),
                        Action(
                            0.60 * seconds,
                            lambda: fake.drop_connections(),
                            "fault: the exchange drops the connection",
                        ),
                    ]
                    await session.run(stop, actions)
                    # Freeze the market, let the client catch up, compare with the truth.
                    fake.pause()
                    await fake.drain()
                    truth = fake.book(target.symbol)
                    caught_up = await session.wait_caught_up(truth.last_update_id, timeout=5.0)
                    bids, asks = session.levels(None)
                    problems = truth.differences(dict(bids), dict(asks), CHECK_DEPTH)
                    if not caught_up:
                        check, detail = "behind", "no: the book did not catch up in 5 s"
                    elif problems:
                        check = "mismatch"
                        detail = f"NO: {len(problems)} differences, e.g. {problems[0]}"
                    else:
                        check = "ok"
                        detail = (
                            f"yes: top {CHECK_DEPTH} levels identical, all "
                            f"{len(bids) + len(asks)} levels held agree"
                        )
                    summary = session.summary(check, detail)
                    renderer.frame(session.state())
                    await session.close()
    finally:
        renderer.close()
    print(summary.text(), flush=True)
    return 0 if summary.synced and check == "ok" else 1


def run(args: argparse.Namespace) -> int:
    """``datastores demo``."""
    code = run_until_interrupted(lambda stop: run_demo(args, stop))
    sys.stdout.flush()
    return code
