"""``datastores demo``: a fake exchange, the real client and store, faults, self-healing.

``--exchange`` picks the target (see :mod:`._targets`): Binance Spot (REST
snapshot + diff stream), Bybit linear, OKX or Bitget USDT-FUTURES (the book
starts from the snapshot pushed after the subscription). The faults follow what
the book can show: a skipped update for all, a wrong checksum where the
messages carry one (OKX, Bitget), then a dropped connection.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable
from typing import Any

from .._errors import ConfigurationError
from .._view import export_svg, make_renderer, require_rich
from . import run_until_interrupted
from ._live import Action, LiveSession, capture_library_logs
from ._plot import RunTrace, plot_run, require_matplotlib
from ._targets import Target, get_target

__all__ = ["run", "run_demo"]


class _Pacer:
    """Lets the demo's faults go one at a time.

    A fault waits until the book is synced and has started recovering from the
    previous fault (its ``resyncs`` grew), or until ``patience`` seconds after
    it (a fault the book cannot see must not stop the show). Without this, on a
    busy machine a book fault could land during a resync (and be dropped with
    the buffered messages, unseen), or the connection could drop before the
    previous fault's message arrived.
    """

    def __init__(self, session: LiveSession, patience: float = 2.0) -> None:
        self._session = session
        self._patience = patience
        self._resyncs: int | None = None
        self._fired_at = 0.0

    def _status(self) -> Any:
        return self._session.book.status(self._session.target.key)

    def ready(self) -> bool:
        """Whether the next fault may go now."""
        status = self._status()
        if not status.synced:
            return False
        if self._resyncs is None or status.resyncs > self._resyncs:
            return True
        return self._session.elapsed - self._fired_at >= self._patience

    def action(self, at: float, run: Callable[[], object], description: str) -> Action:
        """An :class:`Action` paced by this object."""

        def fire() -> object:
            self._resyncs = self._status().resyncs
            self._fired_at = self._session.elapsed
            return run()

        return Action(at, fire, description, ready=self.ready)


def _faults(target: Target, fake: Any, seconds: float, pacer: _Pacer) -> list[Action]:
    """The faults the demo injects: what ``target``'s book can show, then a dropped
    connection (a wrong checksum only where the book messages carry one)."""
    venue, market = target.fake_venue, target.market
    checksum = target.checksum
    actions = [
        pacer.action(
            (0.30 if checksum else 0.35) * seconds,
            lambda: fake.skip_sequence(market, venue=venue),
            "fault: the exchange skips a sequence id",
        )
    ]
    if checksum:
        actions.append(
            pacer.action(
                0.50 * seconds,
                lambda: fake.corrupt_checksum(market, venue=venue),
                "fault: the exchange sends a wrong checksum",
            )
        )
    actions.append(
        pacer.action(
            (0.70 if checksum else 0.60) * seconds,
            lambda: fake.drop_connections(venue=venue),
            "fault: the exchange drops the connection",
        )
    )
    return actions


#: seconds between two samples of the book for ``--plot``
PLOT_INTERVAL = 0.05


async def _sample(trace: RunTrace, session: LiveSession) -> None:
    """Sample the book for the plot until cancelled."""
    while True:
        trace.sample(session.elapsed, session)
        await asyncio.sleep(PLOT_INTERVAL)


async def run_demo(args: argparse.Namespace, stop: asyncio.Event) -> int:
    """The demo itself; returns the exit code (0: the book ended synced and correct)."""
    from .._client import Client
    from ..testing import FakeExchange

    target = get_target(args.exchange, args.symbol)
    if target.fake_venue is None:
        raise ConfigurationError(f"no fake exchange for {args.exchange!r} yet")
    plot_path = getattr(args, "plot", None)
    svg_path = getattr(args, "svg", None)
    # Missing extras fail before the run, not after it.
    if plot_path:
        require_matplotlib()
    if svg_path:
        require_rich("--svg")
    trace = RunTrace() if plot_path else None
    renderer = make_renderer(args.view)
    seconds = float(args.seconds)
    rate = float(args.rate) if args.rate is not None else target.fake_rate
    session: LiveSession | None = None
    try:
        async with FakeExchange(
            target.fake_venue, seed=args.seed, symbols=[target.market], rate=rate
        ) as fake:
            venue = fake.venues[target.fake_venue]
            for other in fake.venues.values():
                # Venues started alongside (OKX's demo trading) have no reader.
                other.paused = other is not venue
            session = LiveSession(
                target,
                renderer,
                title=f"datastores demo: {target.label} {target.symbol} "
                f"(fake exchange on {venue.url[len('http://') :]}, offline)",
                duration=seconds,
            )
            with capture_library_logs(session.event):
                session.event(
                    f"fake {target.label} started: {rate:g} book updates/s, seed {args.seed}"
                )
                async with Client(redirects=fake.redirects) as client:
                    await session.start(client)
                    actions = _faults(target, fake, seconds, _Pacer(session))
                    sampler = None
                    if trace is not None:
                        live = session  # narrowed for the lambda
                        actions = [trace.marking(a, lambda: live.elapsed) for a in actions]
                        sampler = asyncio.create_task(_sample(trace, session))
                    try:
                        await session.run(stop, actions)
                    finally:
                        if sampler is not None:
                            sampler.cancel()
                            with contextlib.suppress(asyncio.CancelledError):
                                await sampler
                    # Freeze the market, let the client catch up, compare with the truth.
                    fake.pause()
                    await fake.drain()
                    truth = fake.book(target.market, venue=target.fake_venue)
                    position = target.position_in_stream(venue, truth)
                    caught_up = position is not None and await session.wait_caught_up(
                        position, timeout=5.0
                    )
                    bids, asks = session.levels(None)
                    depth = target.check_depth
                    if depth is None:  # the subscription holds the whole book
                        depth = max(len(truth.bids), len(truth.asks))
                    problems = truth.differences(dict(bids), dict(asks), depth)
                    if not caught_up:
                        check, detail = "behind", "no: the book did not catch up in 5 s"
                    elif problems:
                        check = "mismatch"
                        detail = f"NO: {len(problems)} differences, e.g. {problems[0]}"
                    elif target.check_depth is None:
                        check = "ok"
                        detail = f"yes: all {len(bids) + len(asks)} levels identical"
                    else:
                        check = "ok"
                        detail = (
                            f"yes: top {depth} levels identical, all "
                            f"{len(bids) + len(asks)} levels held agree"
                        )
                    summary = session.summary(check, detail)
                    final = session.state()
                    renderer.frame(final)
                    if trace is not None:
                        trace.sample(session.elapsed, session)
                    await session.close()
    finally:
        renderer.close()
    print(summary.text(), flush=True)
    if svg_path:
        export_svg(final, svg_path, title=f"datastores demo --exchange {target.exchange}")
        print(f"screen saved to {svg_path}", flush=True)
    if trace is not None and plot_path:
        drawn = plot_run(trace, plot_path, f"datastores demo: {target.label} {target.symbol}")
        marks = ", ".join(f"{len(times)} {kind}" for kind, times in drawn.markers.items() if times)
        print(f"plot written to {plot_path} ({drawn.samples} samples; {marks})", flush=True)
    return 0 if summary.synced and check == "ok" else 1


def run(args: argparse.Namespace) -> int:
    """``datastores demo``."""
    code = run_until_interrupted(lambda stop: run_demo(args, stop))
    sys.stdout.flush()
    return code
