"""Phemex's target for the command line (``datastores demo|watch|record --exchange phemex``).

Plain data, found by :mod:`datastores._cli._targets`; importing it loads nothing else
of the exchange.
"""

from __future__ import annotations

from typing import Any

from ..._cli._target import Target

__all__ = ["DEFAULT_SYMBOL", "target"]

#: symbol used when none is given (a USDⓈ-M perpetual: its book prices are plain decimals)
DEFAULT_SYMBOL = "BTCUSDT"
#: levels the default subscription keeps (https://phemex-docs.github.io/#subscribe-orderbook)
DEPTH = 30


def _position(venue: Any, truth: Any) -> int | None:
    """The sequence of the last book message the fake sent for the market."""
    sequence = venue.profile.book_sequence(truth.symbol)
    return None if sequence is None else int(sequence)


def target(symbol: str) -> Target:
    """The 30-level USDⓈ-M book (``orderbook_p``); the stream pushes its snapshot after
    the subscription and again periodically. ``s``-prefixed spot symbols keep their case
    (``sBTCUSDT``) and use ``orderbook.subscribe`` (scaled integer prices)."""
    symbol = "s" + symbol[1:].upper() if symbol[:1] == "s" else symbol.upper()
    usdsm = symbol.endswith("USDT") and not symbol.startswith("s")
    key = "orderbook_p" if usdsm else "book"
    method = "orderbook_p.subscribe" if usdsm else "orderbook.subscribe"
    return Target(
        exchange="phemex",
        label="Phemex USDⓈ-M" if usdsm else "Phemex",
        symbol=symbol,
        ws_url="wss://ws.phemex.com",
        snapshot_url=None,
        store_class="datastores.exchanges.phemex.store:PhemexDataStore",
        fake_venue="phemex",
        subscribe={"id": 1, "method": method, "params": [symbol]},
        channel=f"{key} {symbol}",
        check_depth=DEPTH,
        stream_position=_position,
    )
