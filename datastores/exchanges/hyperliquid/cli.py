"""Hyperliquid's targets for the command line (``datastores demo|watch|record --exchange
hyperliquid``).

Plain data, found by :mod:`datastores._cli._targets`; importing it loads nothing else
of the exchange.
"""

from __future__ import annotations

from typing import Any

from ..._cli._target import Target

__all__ = ["DEFAULT_SYMBOL", "target"]

#: coin used when none is given
DEFAULT_SYMBOL = "BTC"


def target(symbol: str) -> Target:
    """``l2Book``: every push is the whole book (20 levels per side); no sequence.

    Perpetuals are named by coin (``BTC``, upper case: an unknown coin makes the
    server close the socket); spot as ``@<index>`` or ``PURR/USDC``, kept as given.
    The book cannot be verified (no sequence or checksum), so the demo's skipped
    frame is invisible and healed by the next push.
    https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/subscriptions
    """
    if not symbol.startswith("@") and "/" not in symbol and ":" not in symbol:
        symbol = symbol.upper()
        for quote in ("USDC", "USDT", "USD"):
            if symbol.endswith(quote) and len(symbol) > len(quote):
                symbol = symbol[: -len(quote)]  # btcusdt -> BTC (perpetuals are per coin)
                break

    def stream_position(venue: Any, truth: Any) -> int | None:
        position: int | None = venue.profile.last_frame_time.get(symbol)  # the last frame's time
        return position

    return Target(
        exchange="hyperliquid",
        label="Hyperliquid",
        symbol=symbol,
        ws_url="wss://api.hyperliquid.xyz/ws",
        snapshot_url=None,
        store_class="datastores.exchanges.hyperliquid.store:HyperliquidDataStore",
        book_name="l2Book",
        fake_venue="hyperliquid",
        subscribe={"method": "subscribe", "subscription": {"type": "l2Book", "coin": symbol}},
        channel="l2Book",
        check_depth=20,
        stream_position=stream_position,
    )
