"""``datastores demo|record|replay`` with bitFlyer's target against its fake exchange."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import DemoSummary, RunDemo

import re
from pathlib import Path

import pytest
from _clitools import record_until_synced

from datastores._cli import main
from datastores._cli._targets import get_target


def test_demo_detects_a_wrong_mid_price_heals_and_matches_the_fake(
    run_demo: RunDemo, demo_summary: DemoSummary
) -> None:
    # 6 s: a withheld diff away from the top is invisible until the next snapshot, so
    # the demo's next fault waits out its 2 s of patience.
    result = run_demo("--exchange", "bitflyer", "--seconds", "6", "--rate", "300")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = demo_summary(result.stdout)
    assert "not done in time" not in result.stdout  # every fault was injected
    # The withheld diff is seen only if it touched the top (then as a mid_price
    # mismatch); the wrong mid_price always is. Both heal at the next snapshot.
    assert int(summary["checksum_failures"]) >= 1
    assert int(summary["resyncs"]) >= 2
    assert int(summary["reconnects"]) >= 1
    assert summary["synced"] == "yes"
    assert summary["book_check"] == "ok"
    for event in ("checksum mismatch", "synced again", "reconnected"):
        assert event in result.stdout, event
    assert not re.search(r"Warning|Task was destroyed|Unclosed|Traceback", result.stderr), (
        result.stderr
    )


def test_record_and_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bitflyer.jsonl.gz"
    argv = ["record", "bitflyer", "fx_btc_jpy", str(path), "--fake", "--seconds", "60"]
    code, out = record_until_synced(argv, capsys)
    assert code == 0
    assert "event: interrupted" in out  # stopped once synced, not by the time bound
    assert "0 REST responses" in out  # the stream's own snapshot started the book
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    target = get_target("bitflyer", "FX_BTC_JPY")
    assert "into bitFlyerDataStore" in out
    assert f"{target.book_name} {target.key}: synced=yes" in out
