"""Bybit's targets for the command line (``datastores demo|watch|record --exchange bybit``).

Plain data, found by :mod:`datastores._cli._targets`; importing it loads nothing else
of the exchange.
"""

from __future__ import annotations

from typing import Any

from ..._cli._target import Target

__all__ = ["DEFAULT_SYMBOL", "target"]

#: symbol used when none is given
DEFAULT_SYMBOL = "BTCUSDT"


def target(symbol: str) -> Target:
    """Linear (USDT perpetuals), 50 levels.

    The snapshot after the subscription starts the book; a gap resubscribes the
    topic on the same connection.
    https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
    """
    symbol = symbol.upper()
    topic = f"orderbook.50.{symbol}"

    def stream_position(venue: Any, truth: Any) -> int | None:
        position: int | None = venue.profile.update_id(topic)  # the topic's own ``u``
        return position

    return Target(
        exchange="bybit",
        label="Bybit USDT perpetual",
        symbol=symbol,
        ws_url="wss://stream.bybit.com/v5/public/linear",
        snapshot_url=None,
        store_class="datastores.exchanges.bybit.store:BybitDataStore",
        book_name="orderbook",
        fake_venue="bybit-linear",
        subscribe={"op": "subscribe", "args": [topic]},
        channel=topic,
        check_depth=50,
        stream_position=stream_position,
    )
