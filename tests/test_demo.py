"""``datastores demo`` in a subprocess: the book heals and the run ends cleanly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _summary(out: str) -> dict[str, str]:
    lines = [line for line in out.splitlines() if line.startswith("summary: ")]
    assert len(lines) == 1, out
    return dict(pair.split("=", 1) for pair in lines[0][len("summary: ") :].split())


def test_demo_heals_the_book_and_exits_cleanly() -> None:
    env = {**os.environ, "PYTHONWARNINGS": "default", "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONASYNCIODEBUG", None)
    result = subprocess.run(
        [sys.executable, "-m", "datastores", "demo", "--seconds", "4"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = _summary(result.stdout)
    assert int(summary["messages"]) > 0
    assert int(summary["gaps"]) >= 1
    assert int(summary["resyncs"]) >= 1
    assert int(summary["reconnects"]) >= 1
    assert summary["synced"] == "yes"
    assert float(summary["best_bid"]) < float(summary["best_ask"])
    assert summary["book_check"] == "ok"  # equal to the exchange's own book
    # Not a terminal: plain lines, with the self-healing story in the event log.
    out = result.stdout
    for event in ("gap detected", "resync started", "synced again", "reconnected"):
        assert event in out, event
    assert "\x1b[" not in out
    # No leaked task, socket or warning of any kind.
    assert not re.search(r"Warning|Task was destroyed|Unclosed|Traceback", result.stderr), (
        result.stderr
    )
