"""Coincheck's target for the command line (``datastores demo|watch|record --exchange coincheck``).

Plain data, found by :mod:`datastores._cli._targets`; importing it loads nothing else
of the exchange.
"""

from __future__ import annotations

from typing import Any

from ..._cli._target import Target

__all__ = ["DEFAULT_SYMBOL", "target"]

#: pair used when none is given
DEFAULT_SYMBOL = "btc_jpy"


def target(symbol: str) -> Target:
    """The sequenced book of ``symbol`` (``[pair]-limit-range-orderbook``).

    The stream sends no snapshot: the store fetches ``GET /api/order_books?version=1.0``
    by itself when the first diff arrives, and again after a gap in ``sequence_number``.
    The demo's end check compares the book's number with the last one the fake sent.
    """
    pair = symbol.lower()
    channel = f"{pair}-limit-range-orderbook"

    def stream_position(venue: Any, truth: Any) -> int | None:
        position: int | None = venue.profile.sequence(pair)
        return position

    return Target(
        exchange="coincheck",
        label="Coincheck",
        symbol=pair,
        ws_url="wss://ws-api.coincheck.com/",
        snapshot_url=None,
        store_class="datastores.exchanges.coincheck.store:CoincheckDataStore",
        fake_venue="coincheck",
        subscribe={"type": "subscribe", "channel": channel},
        channel=channel,
        check_depth=None,
        stream_position=stream_position,
    )
