"""The command line's parser and errors, and the view's renderers."""

from __future__ import annotations

import io
import sys

import pytest

from datastores import MissingDependencyError
from datastores._cli import build_parser, main
from datastores._cli._live import Summary
from datastores._cli._targets import get_target, load_store_class
from datastores._view import AnsiRenderer, LineRenderer, ViewState, format_number, make_renderer
from datastores.exchanges.binance.store import BinanceSpotDataStore

STATE = ViewState(
    title="demo",
    symbol="BTCUSDT",
    elapsed=3.0,
    duration=20.0,
    bids=[("64999.99000000", "0.5"), ("64999.90000000", "1.25")],
    asks=[("65000.01000000", "0.1")],
    messages=1234,
    rate=400.0,
    synced=True,
    gaps=1,
    resyncs=2,
    reconnects=1,
    events=[(2.5, "gap detected: gap: U/u")],
)


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_demo_defaults() -> None:
    args = build_parser().parse_args(["demo"])
    assert (args.seconds, args.exchange, args.view) == (20.0, "binance", "auto")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--seconds", "0"])


def test_unknown_exchange_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "nowhere", "btcusdt"]) == 1
    assert "available: binance" in capsys.readouterr().err


def test_targets_and_store_lookup() -> None:
    target = get_target("binance", "ethusdt")
    assert target.symbol == "ETHUSDT"
    assert target.ws_url.endswith("/ws/ethusdt@depth@100ms")
    assert load_store_class("BinanceSpotDataStore") is BinanceSpotDataStore
    assert (
        load_store_class("datastores.exchanges.binance.store:BinanceSpotDataStore")
        is BinanceSpotDataStore
    )
    with pytest.raises(MissingDependencyError.__mro__[1], match="no DataStoreCollection"):
        load_store_class("NoSuchStore")


def test_line_renderer() -> None:
    out = io.StringIO()
    renderer = LineRenderer(out)
    renderer.frame(STATE)
    renderer.event(4.0, "reconnected")
    text = out.getvalue()
    assert "BTCUSDT synced bid 64999.99 ask 65000.01 spread 0.02" in text
    assert "gaps 1 resyncs 2 reconnects 1" in text
    assert "event: reconnected" in text


def test_ansi_renderer_draws_the_ladder_and_restores_the_cursor() -> None:
    out = io.StringIO()
    renderer = AnsiRenderer(out)
    renderer.frame(STATE)
    renderer.close()
    text = out.getvalue()
    assert "64999.99" in text
    assert "64999.90" in text
    assert "65000.01" in text
    assert "spread 0.02" in text
    assert "SYNCED | gaps 1 | resyncs 2 | reconnects 1" in text
    assert "gap detected" in text
    assert text.endswith("\x1b[?25h")


def test_make_renderer_modes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(make_renderer("auto", io.StringIO()), LineRenderer)  # not a terminal
    monkeypatch.setitem(sys.modules, "rich", None)  # as if rich were not installed
    with pytest.raises(MissingDependencyError, match=r"datastores\[view\]"):
        make_renderer("rich", io.StringIO())
    with pytest.raises(ValueError, match="unknown view mode"):
        make_renderer("fancy", io.StringIO())


def test_format_number() -> None:
    assert format_number("65000.01000000") == "65000.01"
    assert format_number("65000.00000000") == "65000"
    assert format_number("0.5", 5) == "0.50000"
    assert format_number("n/a") == "n/a"


def test_summary_line_is_parseable() -> None:
    summary = Summary(4.0, 100, 1, 2, 1, 0, True, "1.50", "1.60", "ok", "yes: all agree")
    assert summary.line() == (
        "summary: seconds=4.0 messages=100 gaps=1 resyncs=2 reconnects=1 "
        "checksum_failures=0 synced=yes best_bid=1.5 best_ask=1.6 book_check=ok"
    )
    assert summary.text().endswith(summary.line())
    assert "matches the exchange yes: all agree" in summary.text()
