"""The command line's parser and errors, and the view's renderers."""

from __future__ import annotations

import importlib
import io
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from _clitools import record_until_synced

import datastores
from datastores import DataStoreCollection, MissingDependencyError
from datastores._cli import build_parser, main
from datastores._cli._live import Summary
from datastores._cli._targets import TARGETS, get_target, load_store_class
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

#: exchanges whose package has a cli module, read from the file tree (not through the
#: discovery code under test); the template (``_template``) is not one of them.
EXCHANGES_WITH_CLI = {
    path.parent.name
    for path in (Path(datastores.__file__).parent / "exchanges").glob("*/cli.py")
    if not path.parent.name.startswith("_")
}


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


def test_unknown_exchange_lists_every_exchange(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["demo", "--exchange", "nowhere"], ["record", "kraken", "x", "out.jsonl"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "no live view for exchange" in err
        assert f"available: {', '.join(sorted(EXCHANGES_WITH_CLI))}" in err


def test_demo_rate_defaults_per_exchange() -> None:
    assert build_parser().parse_args(["demo", "--exchange", "okx"]).rate is None
    assert build_parser().parse_args(["demo", "--rate", "50"]).rate == 50.0
    # The fake OKX recomputes a 400-level window per update: it runs slower.
    assert get_target("okx").fake_rate == 200.0
    assert {get_target(e).fake_rate for e in ("binance", "bybit", "bitget")} == {1000.0}


@pytest.mark.parametrize(
    ("exchange", "symbol", "ws_url", "subscribe", "book", "key"),
    [
        (
            "bybit",
            "BTCUSDT",
            "wss://stream.bybit.com/v5/public/linear",
            {"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]},
            "orderbook",
            "BTCUSDT",
        ),
        (
            "okx",
            "BTC-USDT",
            "wss://ws.okx.com:8443/ws/v5/public",
            {"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]},
            "books",
            "BTC-USDT",
        ),
        (
            "bitget",
            "BTCUSDT",
            "wss://ws.bitget.com/v2/ws/public",
            {
                "op": "subscribe",
                "args": [{"instType": "USDT-FUTURES", "channel": "books", "instId": "BTCUSDT"}],
            },
            "book",
            "USDT-FUTURES:BTCUSDT",
        ),
    ],
)
def test_subscription_targets(
    exchange: str, symbol: str, ws_url: str, subscribe: object, book: str, key: str
) -> None:
    for given in (None, "btcusdt"):  # the default symbol, and the usual spelling
        target = get_target(exchange, given)
        assert (target.symbol, target.ws_url, target.subscribe) == (symbol, ws_url, subscribe)
        assert target.snapshot_url is None  # the stream's snapshot starts the book
        assert (target.book_name, target.key, target.market) == (book, key, key)
        store = target.create_store()
        assert store[book].status(target.key).synced is False
        assert store[book].levels(target.key) == ([], [])
    assert get_target("okx", "ETH-USDT-SWAP").symbol == "ETH-USDT-SWAP"
    assert get_target("bitget", "ethusdt").key == "USDT-FUTURES:ETHUSDT"


class _NoWebSocket(BaseHTTPRequestHandler):
    """Answers every request 404: the WebSocket handshake fails at once."""

    def do_GET(self) -> None:
        self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoWebSocket)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{server.server_address[1]}"
        server.shutdown()
    finally:
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize("exchange", ["bybit", "okx", "bitget", "hyperliquid"])
def test_watch_without_the_exchange_says_it_needs_the_internet(
    exchange: str,
    refusing_server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # No test reaches the internet: the target's URL points at a local server that
    # refuses the handshake, as an unreachable exchange would make the first
    # connection fail.
    real = TARGETS[exchange]
    monkeypatch.setitem(
        TARGETS, exchange, lambda symbol: replace(real(symbol), ws_url=refusing_server + "/ws")
    )
    assert main(["watch", exchange, "--seconds", "1", "--view", "plain"]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach {get_target(exchange).label}" in err
    assert "needs the internet" in err
    assert f"datastores demo --exchange {exchange}" in err


@pytest.mark.parametrize("exchange", ["bybit", "okx", "bitget", "hyperliquid"])
def test_record_and_replay_subscription_exchanges(
    exchange: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"{exchange}.jsonl.gz"
    argv = ["record", exchange, "btcusdt", str(path), "--fake", "--seconds", "60"]
    code, out = record_until_synced(argv, capsys)
    assert code == 0
    assert "event: interrupted" in out  # stopped once synced, not by the time bound
    assert "0 REST responses" in out  # the stream's own snapshot started the book
    assert f"to {path}" in out
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    target = get_target(exchange)
    assert f"into {target.store_class.split(':')[1]}" in out
    assert f"{target.book_name} {target.key}: synced=yes" in out


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


def test_targets_are_discovered_from_the_exchange_packages() -> None:
    # Each exchange with a cli module declares its own target; _cli lists none by hand.
    assert set(TARGETS) == EXCHANGES_WITH_CLI
    assert {"binance", "bybit", "okx", "bitget"} <= set(TARGETS)
    for exchange, factory in TARGETS.items():
        module = importlib.import_module(f"datastores.exchanges.{exchange}.cli")
        assert factory is module.target
        target = get_target(exchange)
        assert target.exchange == exchange
        assert target.symbol == module.DEFAULT_SYMBOL
        assert target.fake_venue is not None
        assert isinstance(load_store_class(target.store_class)(), DataStoreCollection)
