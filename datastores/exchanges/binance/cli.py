"""Binance's targets for the command line (``datastores demo|watch|record --exchange binance``).

Plain data, found by :mod:`datastores._cli._targets`; importing it loads nothing else
of the exchange.
"""

from __future__ import annotations

from ..._cli._target import Target

__all__ = ["DEFAULT_SYMBOL", "target"]

#: symbol used when none is given
DEFAULT_SYMBOL = "BTCUSDT"


def target(symbol: str) -> Target:
    """Binance Spot's diff-depth stream; the book starts from the REST snapshot.

    The demo's end check compares the book's ``u`` with the fake market's own id.
    """
    symbol = symbol.upper()
    return Target(
        exchange="binance",
        label="Binance Spot",
        symbol=symbol,
        ws_url=f"wss://stream.binance.com:9443/ws/{symbol.lower()}@depth@100ms",
        snapshot_url=f"https://api.binance.com/api/v3/depth?symbol={symbol}&limit=1000",
        store_class="datastores.exchanges.binance.store:BinanceSpotDataStore",
        fake_venue="binance-spot",
        channel=f"{symbol.lower()}@depth@100ms",
    )
