"""The example exchange's target for the command line (``datastores demo|watch|record``).

Plain data, found by :mod:`datastores._cli._targets` for real exchanges (this
template's ``_`` package is skipped, so ``datastores demo`` does not list it). Importing
it loads nothing else of the exchange. TODO(<x>): your URLs, symbol and fake venue.
"""

from __future__ import annotations

from ..._cli._target import Target

__all__ = ["DEFAULT_SYMBOL", "target"]

#: symbol used when none is given
DEFAULT_SYMBOL = "BTC-USD"


def target(symbol: str) -> Target:
    """The ``book`` channel of ``symbol``; the stream sends the snapshot after subscribing."""
    symbol = symbol.upper()
    return Target(
        exchange="example",
        label="Example (template)",
        symbol=symbol,
        ws_url="wss://stream.example.invalid/ws",
        snapshot_url=None,
        store_class="datastores.exchanges._template.store:ExampleDataStore",
        fake_venue="_template",
        subscribe={"op": "subscribe", "channel": "book", "symbol": symbol},
        channel="book",
    )
