"""The trading example of docs/testing.md runs as printed (against the fake OKX)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "testing.md"


def test_the_trading_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    section = PAGE.read_text().split("## Trading against the fakes", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    exec(compile(match.group(1), str(PAGE), "exec"), {"__name__": "docs_example"})
    bought, refused, status = capsys.readouterr().out.splitlines()
    assert bought == "bought 0.01 BTC"
    assert refused == "51008 Order failed. Insufficient USDT balance in account."
    assert status == "FILLED"
