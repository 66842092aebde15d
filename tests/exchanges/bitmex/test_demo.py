"""``datastores demo --exchange bitmex`` in a subprocess: the lost insert is caught as a
corrupt table, the book is resubscribed, survives a dropped connection and ends equal to
the fake's whole book."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_demo_detects_the_lost_row_and_heals() -> None:
    env = {**os.environ, "PYTHONWARNINGS": "default", "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONASYNCIODEBUG", None)
    command = [sys.executable, "-m", "datastores", "demo", "--exchange", "bitmex"]
    result = subprocess.run(
        [*command, "--seconds", "3.5", "--rate", "300"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("summary: ")]
    assert len(lines) == 1, result.stdout
    summary = dict(pair.split("=", 1) for pair in lines[0][len("summary: ") :].split())
    assert "not done in time" not in result.stdout
    assert int(summary["gaps"]) >= 1
    assert int(summary["resyncs"]) >= 2
    assert int(summary["reconnects"]) >= 1
    assert summary["synced"] == "yes"
    assert summary["book_check"] == "ok"
    for event in ("the table is corrupt", "resubscribing for a fresh snapshot", "reconnected"):
        assert event in result.stdout, event
    assert not re.search(r"Warning|Task was destroyed|Unclosed|Traceback", result.stderr)
