"""OKX's targets for the command line (``datastores demo|watch|record --exchange okx``).

Plain data, found by :mod:`datastores._cli._targets`; importing it loads nothing else
of the exchange.
"""

from __future__ import annotations

from typing import Any

from ..._cli._target import Target

__all__ = ["DEFAULT_SYMBOL", "target"]

#: symbol used when none is given
DEFAULT_SYMBOL = "BTC-USDT"


def target(symbol: str) -> Target:
    """``books``: 400 levels per side, seqId/prevSeqId and a CRC32 checksum.

    The store recovers by resubscribing, or from GET /api/v5/market/books when
    the stream sends no snapshot (OKX is removing it in 2026; the session gives
    the store the client for that). ``btcusdt`` is read as ``BTC-USDT``.
    https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
    """
    symbol = symbol.upper()
    if "-" not in symbol and symbol.endswith(("USDT", "USDC")):
        symbol = f"{symbol[:-4]}-{symbol[-4:]}"  # btcusdt -> BTC-USDT

    def stream_position(venue: Any, truth: Any) -> int | None:
        position: int | None = venue.profile.book_seq(symbol, "books")  # last push's seqId
        return position

    return Target(
        exchange="okx",
        label="OKX",
        symbol=symbol,
        ws_url="wss://ws.okx.com:8443/ws/v5/public",
        snapshot_url=None,
        store_class="datastores.exchanges.okx.store:OKXDataStore",
        book_name="books",
        fake_venue="okx",
        subscribe={"op": "subscribe", "args": [{"channel": "books", "instId": symbol}]},
        channel="books",
        check_depth=400,
        checksum=True,
        # The fake OKX recomputes its 400-level window on every update (about 2 ms):
        # a slower market leaves the client most of the CPU.
        fake_rate=200.0,
        stream_position=stream_position,
    )
