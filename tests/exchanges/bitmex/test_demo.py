"""``datastores demo --exchange bitmex`` in a subprocess: the lost insert is caught as a
corrupt table, the book is resubscribed, survives a dropped connection and ends equal to
the fake's whole book."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import DemoSummary, RunDemo

import re


def test_demo_detects_the_lost_row_and_heals(run_demo: RunDemo, demo_summary: DemoSummary) -> None:
    result = run_demo("--exchange", "bitmex", "--seconds", "3.5", "--rate", "300")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = demo_summary(result.stdout)
    assert "not done in time" not in result.stdout
    assert int(summary["gaps"]) >= 1
    assert int(summary["resyncs"]) >= 2
    assert int(summary["reconnects"]) >= 1
    assert summary["synced"] == "yes"
    assert summary["book_check"] == "ok"
    for event in ("the table is corrupt", "resubscribing for a fresh snapshot", "reconnected"):
        assert event in result.stdout, event
    assert not re.search(r"Warning|Task was destroyed|Unclosed|Traceback", result.stderr)
