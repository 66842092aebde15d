"""``datastores demo`` in a subprocess, per exchange: the book heals and the run ends cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import DemoSummary, RunDemo

ROOT = Path(__file__).resolve().parent.parent


def test_demo_heals_the_book_and_exits_cleanly(
    run_demo: RunDemo, demo_summary: DemoSummary
) -> None:
    result = run_demo("--seconds", "4")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = demo_summary(result.stdout)
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
    # The snapshot request follows the connection: no "give a Client" notice.
    assert "no open datastores.Client" not in out
    # No leaked task, socket or warning of any kind.
    assert not re.search(r"Warning|Task was destroyed|Unclosed|Traceback", result.stderr), (
        result.stderr
    )


# Rates below the interactive defaults keep the fake's share of a busy 2-core machine
# small, so each fault is injected and healed within the run.
@pytest.mark.parametrize(
    ("exchange", "rate", "seq_gap", "checksum"),
    [
        ("bybit", "300", True, False),  # ``u`` jumps; no checksum
        ("okx", "100", True, True),  # prevSeqId breaks; wrong checksum
        # Bitget's ``seq`` only has to increase: the withheld update is caught by the
        # next checksum (so two checksum failures, and no gap).
        ("bitget", "300", False, True),
    ],
)
def test_demo_of_each_exchange_detects_its_faults_and_heals(
    exchange: str,
    rate: str,
    seq_gap: bool,
    checksum: bool,
    run_demo: RunDemo,
    demo_summary: DemoSummary,
) -> None:
    result = run_demo("--exchange", exchange, "--seconds", "3.5", "--rate", rate)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = demo_summary(result.stdout)
    assert int(summary["messages"]) > 0
    assert "not done in time" not in result.stdout  # every fault was injected
    if seq_gap:
        assert int(summary["gaps"]) >= 1
    if checksum:
        assert int(summary["checksum_failures"]) >= (1 if seq_gap else 2)
    else:
        assert int(summary["checksum_failures"]) == 0
    assert int(summary["resyncs"]) >= (3 if checksum else 2)  # one per fault
    assert int(summary["reconnects"]) >= 1
    assert summary["synced"] == "yes"
    assert float(summary["best_bid"]) < float(summary["best_ask"])
    assert summary["book_check"] == "ok"  # equal to the fake's book within the depth
    out = result.stdout
    events = ["resubscribing for a fresh snapshot", "synced again", "reconnected"]
    events += ["gap detected"] if seq_gap else []
    events += ["checksum mismatch"] if checksum else []
    for event in events:
        assert event in out, event
    assert "\x1b[" not in out
    assert not re.search(r"Warning|Task was destroyed|Unclosed|Traceback", result.stderr), (
        result.stderr
    )


def test_ctrl_c_ends_the_demo_cleanly_with_ademo_summary(demo_summary: DemoSummary) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "default", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "datastores", "demo", "--seconds", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "book synced" in line:
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, out + err
    assert "event: interrupted" in out
    summary = demo_summary(out)
    assert summary["synced"] == "yes"
    assert float(summary["seconds"]) < 30
    assert not re.search(r"Warning|Task was destroyed|Unclosed|Traceback", err), err
