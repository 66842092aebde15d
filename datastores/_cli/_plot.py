"""A picture of a live run: the book's mid and spread over time, faults and recoveries marked.

``datastores demo --plot FILE`` samples the session with a :class:`RunTrace`
(every ``interval`` seconds: best bid and ask, whether the book is synced, the
integrity counters) and draws it with :func:`plot_run`. Drawing needs
matplotlib (``pip install 'datastores[plot]'``); it is imported only here, and
through its object API (no ``pyplot``, no global backend switch), so a program
that already uses matplotlib is not disturbed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .._errors import MissingDependencyError
from ._live import Action

__all__ = ["MARKER_KINDS", "Marker", "PlotData", "RunTrace", "plot_run", "require_matplotlib"]

#: what a marker can be, with how it is drawn (colour, line style, symbol) and its legend
#: text; symbols sit at their own height, so events at the same moment stay apart
MARKER_KINDS: dict[str, tuple[str, str, str, str]] = {
    "fault": ("black", ":", "v", "fault injected"),
    "gap": ("tab:red", "-", "X", "gap detected"),
    "checksum": ("tab:orange", "-", "D", "checksum mismatch"),
    "reconnect": ("tab:purple", "-", "s", "reconnected"),
    "resync": ("tab:blue", "--", "o", "resync started"),
}


@dataclass(frozen=True, slots=True)
class Marker:
    """Something that happened at ``time`` seconds into the run."""

    time: float
    kind: str
    text: str = ""


@dataclass(slots=True)
class RunTrace:
    """Samples of one book over a run, and the events to mark on the plot.

    A sample is O(log n) (the best level of each side); counters are compared
    with the previous sample, so an increase between two samples still gives
    one marker per counted event, at the later sample's time.
    """

    times: list[float] = field(default_factory=list)
    #: best bid and ask midpoint (NaN while the book is not synced)
    mids: list[float] = field(default_factory=list)
    #: best ask minus best bid (NaN while the book is not synced)
    spreads: list[float] = field(default_factory=list)
    #: false when the book was not synced at the sample, or lost its sync since the last one
    synced: list[bool] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    _counters: dict[str, int] = field(default_factory=dict)

    def sample(self, elapsed: float, session: Any) -> None:
        """Record the book of a :class:`~._live.LiveSession` at ``elapsed`` seconds."""
        status = session.book.status(session.target.key)
        bids, asks = session.levels(1)
        mid = spread = math.nan
        if status.synced and bids and asks:
            bid, ask = float(bids[0][0]), float(asks[0][0])
            mid, spread = (bid + ask) / 2, ask - bid
        counters = {
            "gap": status.gaps,
            "checksum": status.checksum_failures,
            "resync": status.resyncs,
            "reconnect": session.reconnects,
        }
        lost = False
        for kind, count in counters.items():
            before = self._counters.get(kind, 0)
            self.markers.extend(Marker(elapsed, kind) for _ in range(count - before))
            lost = lost or count > before
        self._counters = counters
        self.times.append(elapsed)
        self.mids.append(mid)
        self.spreads.append(spread)
        # A recovery faster than the sampling interval still shows as a short unsynced stretch.
        self.synced.append(bool(status.synced) and not lost)

    def marking(self, action: Action, clock: Any) -> Action:
        """``action`` that also puts a ``fault`` marker at the time it runs
        (``clock()`` gives the elapsed seconds)."""
        run = action.run

        def run_and_mark() -> object:
            self.markers.append(Marker(clock(), "fault", action.description))
            return run()

        return replace(action, run=run_and_mark)

    def times_of(self, kind: str) -> list[float]:
        """When markers of ``kind`` happened, in order."""
        return [marker.time for marker in self.markers if marker.kind == kind]


@dataclass(frozen=True, slots=True)
class PlotData:
    """What :func:`plot_run` drew (for callers and tests)."""

    path: Path
    samples: int
    #: marker kind -> the times drawn
    markers: dict[str, list[float]]
    #: (start, end) of each stretch where the book was not synced (shaded)
    unsynced: list[tuple[float, float]]


def require_matplotlib() -> None:
    """Fail early, before a run, when matplotlib is missing.

    Raises:
        MissingDependencyError: with the install command.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "--plot needs matplotlib: pip install 'datastores[plot]'"
        ) from None


def _unsynced_spans(trace: RunTrace) -> list[tuple[float, float]]:
    spans: list[tuple[float, float]] = []
    start: float | None = None
    for time, synced in zip(trace.times, trace.synced, strict=True):
        if not synced and start is None:
            start = time
        elif synced and start is not None:
            spans.append((start, time))
            start = None
    if start is not None and trace.times:
        spans.append((start, trace.times[-1]))
    return spans


def plot_run(trace: RunTrace, path: str | Path, title: str) -> PlotData:
    """Draw ``trace`` to ``path`` (PNG, SVG or PDF, by its suffix).

    Two panels share the time axis: the mid price and the spread, drawn only
    while the book is synced; stretches where it is not are shaded, and each
    marker is a vertical line (faults dotted, recoveries dashed).

    Raises:
        MissingDependencyError: matplotlib is not installed.
    """
    require_matplotlib()
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    figure = Figure(figsize=(10, 5.5), layout="constrained")
    FigureCanvasAgg(figure)
    mid_axes, spread_axes = figure.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    mid_axes.plot(trace.times, trace.mids, color="tab:green", linewidth=1.2, label="mid price")
    spread_axes.plot(trace.times, trace.spreads, color="tab:gray", linewidth=1.0)
    mid_axes.set_ylabel("mid price")
    spread_axes.set_ylabel("spread")
    spread_axes.set_xlabel("seconds into the run")
    mid_axes.set_title(title, fontsize=11)
    spans = _unsynced_spans(trace)
    for axes in (mid_axes, spread_axes):
        axes.grid(True, alpha=0.3)
        for index, (start, end) in enumerate(spans):
            label = "book not synced" if index == 0 and axes is mid_axes else None
            axes.axvspan(start, max(end, start + 0.05), color="tab:red", alpha=0.12, label=label)
    drawn: dict[str, list[float]] = {}
    for row, (kind, (colour, style, symbol, legend)) in enumerate(MARKER_KINDS.items()):
        times = trace.times_of(kind)
        drawn[kind] = times
        for time in times:
            for axes in (mid_axes, spread_axes):
                axes.axvline(time, color=colour, linestyle=style, linewidth=1.0, alpha=0.8)
        if times:
            mid_axes.scatter(
                times,
                [0.96 - 0.07 * row] * len(times),
                transform=mid_axes.get_xaxis_transform(),
                marker=symbol,
                color=colour,
                s=36,
                zorder=3,
                label=legend,
            )
    for marker in trace.markers:
        if marker.kind == "fault" and marker.text:
            mid_axes.annotate(
                marker.text.removeprefix("fault: "),
                (marker.time, 0.03),
                xycoords=mid_axes.get_xaxis_transform(),
                xytext=(3, 0),
                textcoords="offset points",
                rotation=90,
                fontsize=7,
                va="bottom",
            )
    figure.legend(loc="outside lower center", ncols=len(MARKER_KINDS) + 2, fontsize=8)
    mid_axes.ticklabel_format(axis="y", useOffset=False, style="plain")
    # SVG text stays text (searchable, and lighter than glyph outlines).
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(path, dpi=100)
    return PlotData(path=path, samples=len(trace.times), markers=drawn, unsynced=spans)
