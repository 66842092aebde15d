"""``datastores demo --exchange phemex`` in a subprocess: the book survives a lost
increment (healed by the periodic snapshots) and a dropped connection."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import DemoSummary, RunDemo

import re

from datastores._cli._targets import get_target
from datastores.exchanges.phemex.cli import target


def test_targets() -> None:
    assert get_target("phemex").symbol == "BTCUSDT"
    usdsm = target("btcusdt")
    assert usdsm.subscribe == {"id": 1, "method": "orderbook_p.subscribe", "params": ["BTCUSDT"]}
    assert target("btcusd").subscribe["method"] == "orderbook.subscribe"
    assert target("sBTCUSDT").subscribe["params"] == ["sBTCUSDT"]
    assert target("sbtcusdt").symbol == "sBTCUSDT"


def test_demo_heals_and_ends_equal_to_the_fake(
    run_demo: RunDemo, demo_summary: DemoSummary
) -> None:
    result = run_demo("--exchange", "phemex", "--seconds", "5", "--rate", "300")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = demo_summary(result.stdout)
    assert int(summary["messages"]) > 0
    assert int(summary["gaps"]) == 0  # a lost Phemex increment cannot be seen
    assert int(summary["reconnects"]) >= 1
    assert int(summary["resyncs"]) >= 1
    assert summary["synced"] == "yes"
    assert summary["book_check"] == "ok"
    for event in ("skips a sequence id", "reconnected", "synced again"):
        assert event in result.stdout, event
    assert not re.search(r"Warning|Task was destroyed|Unclosed|Traceback", result.stderr), (
        result.stderr
    )
