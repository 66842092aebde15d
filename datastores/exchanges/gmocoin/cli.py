"""GMO Coin's target for the command line (``datastores demo|watch|record --exchange gmocoin``).

Plain data, found by :mod:`datastores._cli._targets`; importing it loads nothing else
of the exchange.
"""

from __future__ import annotations

from typing import Any

from ..._cli._target import Target

__all__ = ["DEFAULT_SYMBOL", "target"]

#: symbol used when none is given (leverage BTC/JPY; spot is "BTC")
DEFAULT_SYMBOL = "BTC_JPY"


def _frame_position(venue: Any, truth: Any) -> int | None:
    """The ``timestamp`` (ms) of the fake's last ``orderbooks`` frame of the market:
    the book's ``last_update_id`` once it has applied it."""
    position: int | None = venue.profile.frame_ms.get(truth.symbol)
    return position


def target(symbol: str) -> Target:
    """The public ``orderbooks`` channel: every frame is a whole book of 30 levels a
    side, so there is no snapshot to fetch and no gap to see (a lost frame is
    replaced by the next one)."""
    symbol = symbol.upper()
    return Target(
        exchange="gmocoin",
        label="GMO Coin",
        symbol=symbol,
        ws_url="wss://api.coin.z.com/ws/public/v1",
        snapshot_url=None,
        store_class="datastores.exchanges.gmocoin.store:GMOCoinDataStore",
        book_name="orderbooks",
        fake_venue="gmocoin",
        subscribe={"command": "subscribe", "channel": "orderbooks", "symbol": symbol},
        channel="orderbooks",
        check_depth=30,
        # Each update is a whole 30x30 frame: GMO Coin itself sends about two a second.
        fake_rate=50.0,
        stream_position=_frame_position,
    )
