"""``datastores demo --plot FILE`` / ``--svg FILE``: pictures of a run, with its faults marked."""

from __future__ import annotations

import math
import re
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from datastores._cli._live import Action
from datastores._cli._plot import MARKER_KINDS, Marker, RunTrace, plot_run, require_matplotlib
from datastores._errors import MissingDependencyError

if TYPE_CHECKING:
    from conftest import DemoSummary, RunDemo

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Session:
    """What :meth:`RunTrace.sample` reads of a LiveSession: a book's status and top."""

    def __init__(self) -> None:
        self.target = SimpleNamespace(key="BTCUSDT")
        self.reconnects = 0
        self.status = SimpleNamespace(synced=True, gaps=0, checksum_failures=0, resyncs=0)
        self.top: tuple[list[tuple[str, str]], list[tuple[str, str]]] = (
            [("100.0", "1")],
            [("100.5", "2")],
        )
        self.book = SimpleNamespace(status=lambda key: self.status)

    def levels(self, depth: int | None) -> tuple[list[Any], list[Any]]:
        return self.top


def _trace() -> RunTrace:
    """A run: synced, a gap and its resync between two samples, a reconnect, unsynced, back."""
    session, trace = _Session(), RunTrace()
    trace.sample(0.0, session)
    session.status = SimpleNamespace(synced=True, gaps=1, checksum_failures=0, resyncs=1)
    trace.sample(1.0, session)  # the gap healed before this sample: still marked
    session.reconnects = 1
    session.status = SimpleNamespace(synced=False, gaps=1, checksum_failures=1, resyncs=2)
    trace.sample(2.0, session)
    trace.sample(3.0, session)
    session.status = SimpleNamespace(synced=True, gaps=1, checksum_failures=1, resyncs=2)
    session.top = ([("101.0", "1")], [("101.2", "1")])
    trace.sample(4.0, session)
    return trace


def test_a_trace_marks_each_counted_event_and_each_lost_sync() -> None:
    trace = _trace()
    assert trace.times_of("gap") == [1.0]
    assert trace.times_of("resync") == [1.0, 2.0]
    assert trace.times_of("checksum") == [2.0]
    assert trace.times_of("reconnect") == [2.0]
    assert trace.synced == [True, False, False, False, True]
    assert trace.mids[0] == 100.25
    assert trace.spreads[0] == 0.5
    assert math.isnan(trace.mids[2])  # nothing drawn while the book is not synced
    assert trace.mids[4] == pytest.approx(101.1)


def test_marking_an_action_records_the_fault_when_it_runs() -> None:
    trace, ran = RunTrace(), []
    action = trace.marking(Action(1.0, lambda: ran.append(1), "fault: a gap"), lambda: 2.5)
    assert trace.markers == []  # not before it runs
    action.run()
    assert ran == [1]
    assert [(m.time, m.kind, m.text) for m in trace.markers] == [(2.5, "fault", "fault: a gap")]


def test_plot_run_draws_a_png_with_every_marker_and_unsynced_span(tmp_path: Path) -> None:
    trace = _trace()
    trace.markers.append(Marker(0.5, "fault", "fault: skip"))
    drawn = plot_run(trace, tmp_path / "run.png", "a run")
    assert (tmp_path / "run.png").read_bytes()[:8] == PNG_MAGIC
    assert drawn.samples == 5
    assert drawn.markers["resync"] == [1.0, 2.0]
    assert drawn.markers["gap"] == [1.0]
    assert drawn.markers["fault"] == [0.5]
    assert drawn.unsynced == [(1.0, 4.0)]
    assert set(drawn.markers) == set(MARKER_KINDS)


def test_without_matplotlib_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    with pytest.raises(MissingDependencyError, match=r"datastores\[plot\]"):
        require_matplotlib()


def test_demo_plot_and_svg_show_the_run_with_its_faults_and_recoveries(
    tmp_path: Path, run_demo: RunDemo, demo_summary: DemoSummary
) -> None:
    plot, screen = tmp_path / "run.svg", tmp_path / "screen.svg"
    result = run_demo("--seconds", "4", "--plot", str(plot), "--svg", str(screen))
    assert result.returncode == 0, result.stdout + result.stderr
    summary = demo_summary(result.stdout)
    counts = re.search(r"plot written to .* \((\d+) samples; (.*)\)", result.stdout)
    assert counts is not None, result.stdout
    drawn = dict(reversed(part.split(" ", 1)) for part in counts.group(2).split(", "))
    assert int(counts.group(1)) > 10
    assert drawn["fault"] == "2"  # a skipped update, a dropped connection
    assert drawn["gap"] == summary["gaps"]
    assert drawn["resync"] == summary["resyncs"]
    assert drawn["reconnect"] == summary["reconnects"]
    text = plot.read_text()
    assert text.startswith("<?xml")
    assert "</svg>" in text
    for legend in ("mid price", "fault injected", "gap detected", "resync started", "reconnected"):
        assert legend in text, legend
    assert "the exchange skips a sequence id" in text
    screen_text = screen.read_text()
    assert "</svg>" in screen_text
    assert "synced" in screen_text
    assert "BTCUSDT" in screen_text


def test_demo_refuses_a_missing_extra_before_running(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from datastores._cli import main

    monkeypatch.setitem(sys.modules, "rich", None)
    assert main(["demo", "--svg", "screen.svg", "--view", "plain"]) != 0
    assert "datastores[view]" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["demo", "--plot", "run.png", "--view", "plain"]) != 0
    assert "datastores[plot]" in capsys.readouterr().err
