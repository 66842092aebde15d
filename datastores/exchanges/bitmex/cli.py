"""BitMEX's targets for the command line (``datastores demo|watch|record --exchange bitmex``).

Plain data, found by :mod:`datastores._cli._targets`; importing it loads nothing else
of the exchange.
"""

from __future__ import annotations

from typing import Any

from ..._cli._target import Target

__all__ = ["DEFAULT_SYMBOL", "target"]

#: symbol used when none is given
DEFAULT_SYMBOL = "XBTUSD"


def target(symbol: str) -> Target:
    """The full L2 table of a perpetual swap (``orderBookL2:{symbol}``).

    The partial after the subscription starts the book. BitMEX has no sequence: a lost
    message shows when a later one touches a row the table lacks, and the book is
    resubscribed. https://www.bitmex.com/app/wsAPI
    """
    symbol = symbol.upper()
    topic = f"orderBookL2:{symbol}"

    def stream_position(venue: Any, truth: Any) -> int | None:
        # The book's last_update_id counts the messages applied since its partial;
        # the fake counts the ones it sent since then.
        position: int | None = venue.profile.position(symbol)
        return position

    return Target(
        exchange="bitmex",
        label="BitMEX perpetual",
        symbol=symbol,
        ws_url="wss://ws.bitmex.com/realtime",
        snapshot_url=None,
        store_class="datastores.exchanges.bitmex.store:BitMEXDataStore",
        book_name="orderBookL2",
        fake_venue="bitmex",
        subscribe={"op": "subscribe", "args": [topic]},
        channel=topic,
        check_depth=None,
        stream_position=stream_position,
    )
